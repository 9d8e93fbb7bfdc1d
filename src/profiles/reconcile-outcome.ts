import { CommandStatus, isFinalStatus } from '../commands/command-status';
import type { CommandConfig, WinCommand } from '../commands/commands.types';
import { sameValue } from './reconcile-values';

/**
 * What one batch of a profile's commands was for: deliver (writes, each followed by its Get),
 * verify (the Gets of an atomic profile, queued once its Atomic was acknowledged: a Get may not
 * ride inside an Atomic), check (a drift check's Gets), remove (Deletes).
 */
export type ReconcileStep = 'deliver' | 'verify' | 'check' | 'remove';

export type SettingState =
  'delivering' | 'verifying' | 'verified' | 'failed' | 'drifted' | 'removing' | 'removed';

/** One setting's outcome on one device, as the assignment stores it. */
export interface SettingOutcome {
  path: string;
  state: SettingState;
  /**
   * The SyncML code that decided it (the write's, or the Get's when the read-back decided), as
   * the device sent it; the API answers it as a number.
   */
  statusCode?: string;
  /** The value the device answered, when it differs from the desired one. */
  deviceValue?: string;
  /** Read back and equal ('yes'), or not readable on this device ('unreadable': Get 404/405). */
  verified?: 'yes' | 'unreadable';
}

/** The assignment state a batch's outcome leads to; `settled` false while commands are open. */
export interface BatchOutcome {
  settled: boolean;
  state: 'delivering' | 'verifying' | 'verified' | 'failed' | 'drifted' | 'removing' | 'removed';
  settings: SettingOutcome[];
  /** The first failing (or drifted) setting, for the status lists. */
  failure?: { path: string; statusCode?: string; deviceValue?: string };
}

/** A setting's desired value, for a check batch (its Gets carry no value). */
export interface DesiredValue {
  format: string;
  value?: string;
}

/** The commands a profile's settings compile to, in order: each write, then its Get. */
export function deliveryConfigs(
  settings: {
    path: string;
    format: CommandConfig['format'];
    value?: string;
    action?: 'Replace' | 'Add';
    verify?: boolean;
  }[],
  opts: { gets: boolean } = { gets: true },
): CommandConfig[] {
  return settings.flatMap((s): CommandConfig[] => {
    const write: CommandConfig = { path: s.path, action: s.action ?? 'Replace', format: s.format };
    if (s.value !== undefined) write.value = s.value;
    // The Get rides the same batch right after its write: the same session reads it back, and
    // FIFO delivery guarantees it is executed after the write (management-session.md §3.2).
    return s.verify && opts.gets
      ? [write, { path: s.path, action: 'Get', format: s.format }]
      : [write];
  });
}

export function checkConfigs(settings: { path: string; format: CommandConfig['format'] }[]) {
  return settings.map((s): CommandConfig => ({ path: s.path, action: 'Get', format: s.format }));
}

export function removeConfigs(settings: { path: string }[]): CommandConfig[] {
  // MS-MDM Delete: Target only; the format is not sent (command-encoding.ts).
  return settings.map((s): CommandConfig => ({ path: s.path, action: 'Delete', format: 'chr' }));
}

const UNREADABLE = new Set(['404', '405']);

function ok(c: WinCommand): boolean {
  return c.status === CommandStatus.Acknowledged;
}

function code(c: WinCommand): string | undefined {
  return c.statusCode ?? undefined;
}

function deviceValueOf(get: WinCommand | undefined): string | undefined {
  return get && ok(get) ? get.data[0]?.value : undefined;
}

interface SettingCommands {
  path: string;
  write?: WinCommand;
  get?: WinCommand;
  del?: WinCommand;
}

function byPath(commands: WinCommand[]): SettingCommands[] {
  const out = new Map<string, SettingCommands>();
  for (const c of [...commands].sort((a, b) => a.position - b.position)) {
    const s = out.get(c.config.path) ?? { path: c.config.path };
    if (c.config.action === 'Get') s.get = c;
    else if (c.config.action === 'Delete') s.del = c;
    else s.write = c;
    out.set(c.config.path, s);
  }
  return [...out.values()];
}

/** A Get's verdict on a value: verified, a mismatch, or still open. */
function readBack(
  get: WinCommand,
  desired: DesiredValue | undefined,
):
  | { open: true }
  | { open: false; outcome: Omit<SettingOutcome, 'path' | 'state'>; match: boolean } {
  if (!isFinalStatus(get.status)) return { open: true };
  if (UNREADABLE.has(get.statusCode ?? '')) {
    return { open: false, outcome: { statusCode: code(get), verified: 'unreadable' }, match: true };
  }
  if (!ok(get)) return { open: false, outcome: { statusCode: code(get) }, match: false };
  // management-session.md §3.9: Results may arrive in a later message than the Get's Status.
  if (!get.data.length) return { open: true };
  const value = get.data[0].value ?? '';
  const match = !desired || sameValue(desired.format, desired.value ?? '', value);
  return match
    ? { open: false, outcome: { statusCode: code(get), verified: 'yes' }, match }
    : { open: false, outcome: { statusCode: code(get), deviceValue: value }, match };
}

function deliverSetting(s: SettingCommands): SettingOutcome {
  const w = s.write;
  if (!w) return { path: s.path, state: 'failed' };
  if (!isFinalStatus(w.status)) return { path: s.path, state: 'delivering' };
  if (!ok(w)) {
    const out: SettingOutcome = { path: s.path, state: 'failed', statusCode: code(w) };
    const value = deviceValueOf(s.get);
    if (value !== undefined) out.deviceValue = value;
    return out;
  }
  if (!s.get) return { path: s.path, state: 'verified', statusCode: code(w) };
  const r = readBack(s.get, { format: w.config.format, value: w.config.value });
  if (r.open) return { path: s.path, state: 'verifying', statusCode: code(w) };
  return { path: s.path, state: r.match ? 'verified' : 'failed', ...r.outcome };
}

function checkSetting(
  s: SettingCommands,
  desired: DesiredValue | undefined,
  first: boolean,
): SettingOutcome {
  if (!s.get) return { path: s.path, state: 'verified' };
  const r = readBack(s.get, desired);
  if (r.open) return { path: s.path, state: 'verifying' };
  // The first read-back of an atomic profile: any answer but the desired value fails it.
  if (first && !r.match) return { path: s.path, state: 'failed', ...r.outcome };
  // Only a value other than the desired one is drift; a Get the device could not answer this
  // time (500, a cancel at unenrollment) says nothing about the value, so the setting stays.
  if (!r.match && r.outcome.deviceValue !== undefined) {
    return { path: s.path, state: 'drifted', ...r.outcome };
  }
  return { path: s.path, state: 'verified', ...r.outcome };
}

function removeSetting(s: SettingCommands): SettingOutcome {
  const d = s.del;
  if (!d || !isFinalStatus(d.status)) return { path: s.path, state: 'removing' };
  // 404: the node is already absent, which is what Delete asks for.
  if (ok(d) || d.statusCode === '404')
    return { path: s.path, state: 'removed', statusCode: code(d) };
  return { path: s.path, state: 'failed', statusCode: code(d) };
}

/** Stored as written: no keys holding undefined (the driver would store them as null). */
function compact(o: SettingOutcome): SettingOutcome {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  ) as unknown as SettingOutcome;
}

/**
 * The outcome of one batch a profile queued for one device, from its commands' stored statuses
 * (the source of truth: a missed notification is repaired by deriving again). Decided only when
 * every command is final, so the per-setting list is complete; until then the in-flight state.
 */
export function batchOutcome(
  step: ReconcileStep,
  commands: WinCommand[],
  desired: Map<string, DesiredValue> = new Map(),
): BatchOutcome {
  const groups = byPath(commands);
  const settings = groups.map((s) =>
    compact(
      step === 'deliver'
        ? deliverSetting(s)
        : step === 'check' || step === 'verify'
          ? checkSetting(s, desired.get(s.path), step === 'verify')
          : removeSetting(s),
    ),
  );
  const settled =
    commands.every((c) => isFinalStatus(c.status)) &&
    !settings.some(
      (s) => s.state === 'verifying' || s.state === 'delivering' || s.state === 'removing',
    );
  const failing = settings.find((s) => s.state === 'failed' || s.state === 'drifted');
  const failure = failing && {
    path: failing.path,
    ...(failing.statusCode !== undefined && { statusCode: failing.statusCode }),
    ...(failing.deviceValue !== undefined && { deviceValue: failing.deviceValue }),
  };
  const state = settled
    ? failing
      ? step === 'check'
        ? 'drifted'
        : 'failed'
      : step === 'remove'
        ? 'removed'
        : 'verified'
    : step === 'remove'
      ? 'removing'
      : step === 'check'
        ? 'verified'
        : settings.some((s) => s.state === 'delivering')
          ? 'delivering'
          : 'verifying';
  return { settled, state, settings, ...(failure && { failure }) };
}
