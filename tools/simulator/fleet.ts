/*
 * A fleet at a real poll interval (`npm run simulate -- --devices 5000 --poll 60s`): every device
 * checks in once per poll period on a fixed schedule, the devices' phases spread evenly over the
 * period, for a bounded time; a fraction of the check-ins first get a batch of commands queued.
 * Devices are made at their check-in and dropped after it (a real PC opens a new TLS connection
 * for each session at a one-minute poll), so 5,000 of them hold little more than their
 * certificates.
 */
import { SimulatedDevice } from './device';
import { percentile } from './load';
import { SimulatorError } from './simulator-error';
import type { DeviceIdentity, SimulatedDeviceOptions } from './types';

/**
 * A duration: `60s`, `2m`, `500ms`, `1h`, or a bare number of seconds. Returns milliseconds;
 * throws for anything else or for zero.
 */
export function parseDuration(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(raw);
  if (!m) throw new Error(`not a duration: "${raw}" (e.g. 60s, 2m, 500ms)`);
  const unit = (m[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h';
  const ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
  if (ms <= 0) throw new Error(`a duration must be more than 0: "${raw}"`);
  return ms;
}

export interface FleetPlan {
  devices: number;
  pollMs: number;
  durationMs: number;
}

/** When device `i` of `n` first checks in: evenly spread over one poll period. */
export const phaseOf = (i: number, n: number, pollMs: number): number => (i * pollMs) / n;

/** Check-ins a plan schedules within its duration (each device at phase, phase + poll, …). */
export function scheduledCheckins(plan: FleetPlan): number {
  let total = 0;
  for (let i = 0; i < plan.devices; i++) {
    const phase = phaseOf(i, plan.devices, plan.pollMs);
    if (phase < plan.durationMs) total += Math.ceil((plan.durationMs - phase) / plan.pollMs);
  }
  return total;
}

/**
 * Picks which check-ins get commands: an accumulator, so exactly `fraction` of them over time,
 * evenly spaced, with no randomness to make runs differ.
 */
export function commandPicker(fraction: number): () => boolean {
  let acc = 0;
  return () => {
    acc += fraction;
    if (acc >= 1 - 1e-9) {
      acc -= 1;
      return true;
    }
    return false;
  };
}

export interface FleetOptions extends FleetPlan {
  identities: readonly DeviceIdentity[];
  /** Everything a device needs but its identity (server URL, trust, behaviour). */
  device: Omit<SimulatedDeviceOptions, 'deviceId' | 'cert' | 'key'>;
  /** Fraction of check-ins (0..1) that first get `queue(deviceId)` called. */
  commandFraction: number;
  queue?: (deviceId: string) => Promise<void>;
  /** Called about once a second with a progress line. */
  progress?: (line: string) => void;
}

export interface FleetReport {
  plan: FleetPlan;
  expectedPerSecond: number;
  scheduled: number;
  started: number;
  completed: number;
  failed: number;
  /** Check-ins not started because the device's previous session was still running. */
  skipped: number;
  /** Completed check-ins / the measured time (first start to last end). */
  achievedPerSecond: number;
  wallMs: number;
  /** Session latency (first POST to last answer), ms: all, idle only, with commands only. */
  latency: Percentiles;
  idle: Percentiles;
  withCommands: Percentiles;
  /** Time to queue the commands through the REST API (not part of the session latency). */
  enqueue: Percentiles;
  errors: Record<string, number>;
  warnings: Record<string, number>;
  /** The load process: its CPU per completed check-in, and its peak resident memory. */
  loadCpuMsPerCheckin: number;
  loadPeakRssMiB: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentilesOf(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? 0,
  };
}

const bump = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

/** The most frequent failure so far, for the progress line. */
function topError(errors: Record<string, number>): string {
  const [top] = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return top ? ` (most: ${top[1]}× ${top[0].slice(0, 100)})` : '';
}

export async function runFleet(o: FleetOptions): Promise<FleetReport> {
  const n = o.identities.length;
  const plan: FleetPlan = { devices: n, pollMs: o.pollMs, durationMs: o.durationMs };
  const idle: number[] = [];
  const withCommands: number[] = [];
  const enqueue: number[] = [];
  const errors: Record<string, number> = {};
  const warnings: Record<string, number> = {};
  const busy = new Uint8Array(n);
  const pick = commandPicker(o.commandFraction);
  let started = 0;
  let failed = 0;
  let skipped = 0;
  let lastEnd = 0;
  let peakRss = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();

  const checkIn = async (i: number): Promise<void> => {
    const identity = o.identities[i];
    const commands = Boolean(o.queue) && pick();
    busy[i] = 1;
    const device = new SimulatedDevice({ ...o.device, ...identity });
    try {
      if (commands && o.queue) {
        const q0 = performance.now();
        await o.queue(identity.deviceId);
        enqueue.push(performance.now() - q0);
      }
      const result = await device.runSession();
      (commands ? withCommands : idle).push(result.durationMs);
      for (const w of result.warnings) bump(warnings, w.replace(/^server message \S+: /, ''));
    } catch (e) {
      failed++;
      const kind = e instanceof SimulatorError ? e.kind : 'error';
      bump(errors, `${kind}: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      device.close();
      busy[i] = 0;
      lastEnd = performance.now();
    }
  };

  // One timer per device: at its phase, then every poll period on a fixed schedule.
  const timers: NodeJS.Timeout[] = [];
  const schedule = (i: number, at: number) => {
    if (at >= o.durationMs) return;
    timers[i] = setTimeout(
      () => {
        schedule(i, at + o.pollMs);
        if (busy[i]) {
          skipped++;
          return;
        }
        started++;
        const p = checkIn(i);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      },
      Math.max(0, t0 + at - performance.now()),
    );
  };
  for (let i = 0; i < n; i++) schedule(i, phaseOf(i, n, o.pollMs));

  const ticker = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const done = idle.length + withCommands.length;
    o.progress?.(
      `${((performance.now() - t0) / 1000).toFixed(0)} s: ${started} started, ${done} done, ` +
        `${failed} failed, ${inFlight.size} in flight${topError(errors)}`,
    );
  }, 5000);
  try {
    await new Promise((r) => setTimeout(r, o.durationMs));
    for (const t of timers) clearTimeout(t);
    await Promise.all([...inFlight]);
  } finally {
    clearInterval(ticker);
    for (const t of timers) clearTimeout(t);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const cpu = process.cpuUsage(cpu0);
  const completed = idle.length + withCommands.length;
  const wallMs = Math.max(lastEnd, t0 + o.durationMs) - t0;
  return {
    plan,
    expectedPerSecond: (n * 1000) / o.pollMs,
    scheduled: scheduledCheckins(plan),
    started,
    completed,
    failed,
    skipped,
    achievedPerSecond: (completed * 1000) / o.durationMs,
    wallMs,
    latency: percentilesOf([...idle, ...withCommands]),
    idle: percentilesOf(idle),
    withCommands: percentilesOf(withCommands),
    enqueue: percentilesOf(enqueue),
    errors,
    warnings,
    loadCpuMsPerCheckin: (cpu.user + cpu.system) / 1000 / Math.max(1, completed),
    loadPeakRssMiB: peakRss / 2 ** 20,
  };
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const pct = (p: Percentiles) =>
  p.n
    ? `n=${p.n}  p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)} ms`
    : 'none';

/** The report as text (server CPU, when known, is added by the caller). */
export function fleetSummary(r: FleetReport): string {
  const lines = [
    `fleet:      ${r.plan.devices} devices, poll ${r.plan.pollMs / 1000} s, for ${r.plan.durationMs / 1000} s ` +
      `(phases spread evenly over the poll period)`,
    `check-ins:  ${r.started} started of ${r.scheduled} scheduled, ${r.completed} completed, ` +
      `${r.failed} failed, ${r.skipped} skipped (previous session still running)`,
    `rate:       ${r.achievedPerSecond.toFixed(1)} check-ins/s achieved, ` +
      `${r.expectedPerSecond.toFixed(1)}/s expected (devices / poll): ` +
      `${((100 * r.achievedPerSecond) / r.expectedPerSecond).toFixed(0)} %`,
    `latency:    ${pct(r.latency)}`,
    `  idle:     ${pct(r.idle)}`,
    `  commands: ${pct(r.withCommands)}`,
    `  enqueue:  ${pct(r.enqueue)}  (REST POST before those sessions, not in their latency)`,
    `load:       ${ms(r.loadCpuMsPerCheckin)} ms CPU per check-in (this process), ` +
      `peak RSS ${r.loadPeakRssMiB.toFixed(0)} MiB`,
  ];
  for (const [e, c] of Object.entries(r.errors)) lines.push(`ERROR ${c}× ${e}`);
  for (const [w, c] of Object.entries(r.warnings)) lines.push(`warning ${c}× ${w}`);
  return lines.join('\n');
}
