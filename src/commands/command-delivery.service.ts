import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  CommandDeliveryRepository,
  RESULTS_AWAITED,
  StatusTransition,
} from './command-delivery.repository';
import { CommandOutcomeHooks, originBatches } from './command-outcomes';
import { CommandStatus, statusNameFor } from './command-status';
import type { CommandDataItem, WinCommand } from './commands.types';

export interface DeviceRef {
  /** winDeviceId: the device's Mongo id. */
  id: string;
  organizationId: string;
}

/** A device Status for one of our commands. */
export interface DeviceStatusReport {
  /** CmdRef: the server command answered, i.e. our cmdId. */
  cmdRef: string;
  msgRef: string;
  /** The verb the device says it answered (Cmd). */
  cmd: string;
  code: string;
}

/** A device alert (1224/1226) naming a node: possibly the outcome of an asynchronous Exec. */
export interface DeviceAsyncResult {
  /** Source/LocURI: the node the Exec ran. */
  source: string;
  type?: string;
  format?: string;
  data?: string;
}

export interface DeviceResultsReport {
  cmdRef: string;
  msgRef?: string;
  items: { path: string; format?: string; type?: string; value?: string }[];
}

/**
 * The Statuses one device message carried for server commands, in message order, with the
 * Results of the same message keyed by the CmdRef of the Get they answer. One call per message,
 * so recording k statuses costs a constant number of round trips.
 */
export interface DeviceReports {
  statuses: DeviceStatusReport[];
  results: DeviceResultsReport[];
  receivedAt: Date;
}

/** The commands taken for one answer, and the token of the update that took them. */
export interface Taken {
  sent: WinCommand[];
  opToken: string;
}

/** The commands as a take that moves them all leaves them. */
export function asSent(chosen: WinCommand[], now: Date): WinCommand[] {
  return chosen.map((c) => ({
    ...c,
    status: CommandStatus.Awaiting,
    sentAt: now,
    attempts: c.attempts + 1,
  }));
}

function itemsOf(r: DeviceResultsReport): CommandDataItem[] {
  return r.items.map((i) => {
    const item: CommandDataItem = { path: i.path };
    if (i.format !== undefined) item.format = i.format;
    if (i.type !== undefined) item.type = i.type;
    if (i.value !== undefined) item.value = i.value;
    return item;
  });
}

/** A node URI compared as Windows may echo it: percent-decoded, case-insensitive (GUIDs). */
function nodeKey(uri: string): string {
  let decoded = uri;
  try {
    decoded = decodeURIComponent(uri);
  } catch {
    // not percent-encoded: compared as sent
  }
  return decoded.toLowerCase();
}

/** The commands module's side of a management session: delivery, statuses, redelivery. */
@Injectable()
export class CommandDeliveryService {
  private readonly logger = new Logger('CommandDelivery');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: CommandDeliveryRepository,
    private readonly outcomes: CommandOutcomeHooks,
  ) {}

  /** The device's Pending commands, FIFO, at most `limit`; ./User/… ones only with `userScope`. */
  pending(device: DeviceRef, limit: number, userScope: boolean): Promise<WinCommand[]> {
    return this.repo.nextPending(device.id, limit, userScope);
  }

  /**
   * Pending → Awaiting (sentAt, attempts+1) for the chosen commands still Pending; only those go.
   * One round trip, a second only when something changed them in between (a cancel).
   */
  async take(
    device: DeviceRef,
    chosen: WinCommand[],
    sessionRef: string,
    now: Date,
  ): Promise<Taken> {
    const { moved, opToken } = await this.repo.markSent(
      device.id,
      chosen.map((c) => c.id),
      sessionRef,
      now,
    );
    if (moved.size !== chosen.length) {
      this.logger.warn(
        `${chosen.length - moved.size} commands of ${device.id} changed before delivery: not sent`,
      );
    }
    const sent = asSent(
      chosen.filter((c) => moved.has(c.id)),
      now,
    );
    return { sent, opToken };
  }

  /**
   * A session-start answer sent again (a replay) carries the commands its session lists as
   * awaiting; that answer was saved before they were taken (decisions.md §40), so those still
   * Pending — a crash came between — are taken now, before it goes out again.
   */
  async retake(device: DeviceRef, cmdIds: string[], sessionRef: string, now: Date): Promise<void> {
    const n = await this.repo.markSentByCmdId(device.id, cmdIds, sessionRef, now);
    if (n) this.logger.warn(`${n} commands of ${device.id} taken for a replayed answer`);
  }

  /**
   * The command a session is delivering in chunks (a large object), while it is still Awaiting
   * from that session: a cancel, an expiry or another session's requeue ends the object.
   */
  async inFlight(device: DeviceRef, cmdId: string, sessionRef: string): Promise<WinCommand | null> {
    return this.repo.findInFlight(device.id, cmdId, sessionRef);
  }

  /**
   * Applies the Statuses (and joined Results) of one device message; answers the cmdIds whose
   * status this call changed (a racing message may have applied another first).
   */
  async recordStatuses(device: DeviceRef, e: DeviceReports): Promise<string[]> {
    const resultsByRef = new Map(e.results.map((r) => [r.cmdRef, r]));
    const refs = [
      ...new Set([...e.statuses.map((s) => s.cmdRef), ...e.results.map((r) => r.cmdRef)]),
    ];
    const known = new Map((await this.repo.findAwaiting(device.id, refs)).map((c) => [c.cmdId, c]));
    const transitions: StatusTransition[] = [];
    const answered = new Set<string>();
    for (const s of e.statuses) {
      // An Atomic's own Status names no queued command: its commands carry their own (MS-MDM
      // 2.2.6.1; 216 for those rolled back).
      if (s.cmd === 'Atomic') continue;
      const c = known.get(s.cmdRef);
      // The command this Status moves, or why it moves none.
      const target = !c
        ? `${s.cmdRef}, unknown or not Awaiting`
        : s.cmd && s.cmd !== c.config.action
          ? `${c.cmdId}, which is a ${c.config.action}, named ${s.cmd}`
          : answered.has(c.cmdId)
            ? `${c.cmdId}, a second time in one message`
            : c;
      if (typeof target === 'string') {
        this.logger.warn(`Status ${s.code} from device ${device.id} for ${target}: ignored`);
        continue;
      }
      answered.add(target.cmdId);
      const results = resultsByRef.get(target.cmdId);
      transitions.push({
        id: target.id,
        cmdId: target.cmdId,
        action: target.config.action,
        to: statusNameFor(s.code, target.config.action), // 101, 213, Exec 202 keep it Awaiting
        statusCode: s.code,
        receivedAt: e.receivedAt,
        data: target.config.action === 'Get' && results ? itemsOf(results) : undefined,
      });
    }
    const applied = await this.repo.applyStatuses(device.id, transitions);
    if (applied.size !== transitions.length) {
      // Something moved a command meanwhile (unenrollment, a concurrent message).
      this.logger.warn(
        `Expected ${transitions.length} status updates for ${device.id}, applied ${applied.size}`,
      );
    }
    // Results whose Status was refused above go the late way, which applies its own conditions.
    const late = e.results.filter((r) => !answered.has(r.cmdRef));
    if (late.length) {
      // Results for a Get answered in an earlier message: it is no longer Awaiting.
      const others = late.map((r) => r.cmdRef).filter((ref) => !known.has(ref));
      for (const c of await this.repo.findByCmdIds(device.id, others)) known.set(c.cmdId, c);
      await this.attachLate(device, late, known);
    }
    const changed = transitions.filter((t) => applied.has(t.cmdId)).map((t) => t.cmdId);
    await this.announce(device, [...changed, ...late.map((r) => r.cmdRef)], known);
    return changed;
  }

  /** Tells the outcome listeners about the batches with an origin among `cmdIds`. */
  private async announce(
    device: DeviceRef,
    cmdIds: string[],
    known: Map<string, WinCommand>,
  ): Promise<void> {
    const batches = originBatches(cmdIds.flatMap((id) => known.get(id) ?? []));
    if (!batches.length) return;
    await this.outcomes.notify({
      organizationId: device.organizationId,
      winDeviceId: device.id,
      batches,
    });
  }

  /**
   * Results without their Status: attached to a Get of this device that was sent and still awaits
   * them (Awaiting, or Acknowledged without data). Results for anything else — a Pending,
   * cancelled, failed or unknown command, another verb — are ignored and logged.
   */
  async attachLateResults(device: DeviceRef, results: DeviceResultsReport[]): Promise<number> {
    if (!results.length) return 0;
    const refs = [...new Set(results.map((r) => r.cmdRef))];
    const known = new Map((await this.repo.findByCmdIds(device.id, refs)).map((c) => [c.cmdId, c]));
    const n = await this.attachLate(device, results, known);
    if (n) {
      await this.announce(
        device,
        results.map((r) => r.cmdRef),
        known,
      );
    }
    return n;
  }

  private async attachLate(
    device: DeviceRef,
    results: DeviceResultsReport[],
    known: Map<string, WinCommand>,
  ): Promise<number> {
    const wanted: { id: string; data: CommandDataItem[] }[] = [];
    for (const r of results) {
      const c = known.get(r.cmdRef);
      const why = !c
        ? `unknown command ${r.cmdRef}`
        : c.config.action !== 'Get'
          ? `${c.cmdId}, a ${c.config.action}`
          : !c.sentAt || !RESULTS_AWAITED.includes(c.status)
            ? `${c.cmdId} in state ${c.status} (not sent, or not awaiting Results)`
            : c.data.length
              ? `${c.cmdId}, which has its Results already`
              : null;
      if (why) this.logger.warn(`Results from device ${device.id} for ${why}: ignored`);
      else if (c) wanted.push({ id: c.id, data: itemsOf(r) });
    }
    if (!wanted.length) return 0;
    // The store checks the same conditions again, in the update: a racing message may have won.
    const n = await this.repo.attachResults(device.id, wanted);
    if (n !== wanted.length)
      this.logger.warn(`${wanted.length - n} Results for ${device.id} were no longer awaited`);
    return n;
  }

  /** Commands still Awaiting from earlier sessions (or, with `sessionRef`, from that one). */
  async requeueUnanswered(device: DeviceRef, now: Date, sessionRef?: string): Promise<void> {
    const r = await this.repo.requeueUnanswered(
      device.id,
      this.config.syncml.maxDeliveryAttempts,
      now,
      sessionRef,
    );
    if (r.requeued || r.expired) {
      this.logger.log(`Device ${device.id}: ${r.requeued} commands requeued, ${r.expired} expired`);
    }
  }

  /**
   * Alerts carrying the outcome of an Exec the device accepted with 202 (or answered 101), e.g.
   * EnterpriseDesktopAppManagement's `com.microsoft.mdm.win32csp_install` (management-session.md
   * §3.6): matched by the alert's Source LocURI, which names the node — for an MSI, its product
   * id. Data is an HRESULT: 0 is success. Alerts matching no open Exec are left to the event log.
   */
  async recordAsyncResults(
    device: DeviceRef,
    results: DeviceAsyncResult[],
    receivedAt: Date,
  ): Promise<number> {
    const open = await this.repo.openExecs(device.id);
    if (!open.length) return 0;
    let settled = 0;
    const taken = new Set<string>();
    for (const r of results) {
      const key = nodeKey(r.source);
      // The oldest open Exec of that node takes the outcome (FIFO, as they were sent).
      const c = open
        .filter((o) => !taken.has(o.cmdId) && nodeKey(o.config.path) === key)
        .sort((a, b) => (a.sentAt?.getTime() ?? 0) - (b.sentAt?.getTime() ?? 0))[0];
      if (!c) continue;
      taken.add(c.cmdId);
      const to = /^\s*(0|0x0+)\s*$/i.test(r.data ?? '')
        ? CommandStatus.Acknowledged
        : CommandStatus.UnexpectedError;
      const item: CommandDataItem = { path: r.source };
      if (r.format !== undefined) item.format = r.format;
      if (r.type !== undefined) item.type = r.type;
      if (r.data !== undefined) item.value = r.data;
      if (await this.repo.settleExec(device.id, c.id, to, [item], receivedAt)) settled++;
    }
    if (settled) this.logger.log(`Device ${device.id}: ${settled} asynchronous Execs settled`);
    return settled;
  }

  /**
   * Commands held open by 101 or 202 that waited longer than SYNCML_ASYNC_RESULT_TIMEOUT_SECONDS
   * expire (checked at the device's session start, no fleet-wide scan). Answers the cmdIds, with
   * their verbs, still open.
   */
  async expireInterim(device: DeviceRef, now: Date): Promise<Record<string, string>> {
    const before = new Date(now.getTime() - this.config.syncml.asyncResultTimeoutMs);
    const { expired, open } = await this.repo.expireInterim(device.id, before, now);
    if (expired)
      this.logger.log(`Device ${device.id}: ${expired} interim-answered commands expired`);
    return Object.fromEntries(open.map((c) => [c.cmdId, c.config.action]));
  }

  /** The commands a take moved for an answer that is not sent go back to Pending, untouched. */
  async returnUnsent(device: DeviceRef, taken: Taken): Promise<void> {
    if (!taken.sent.length) return;
    const n = await this.repo.returnUnsent(device.id, taken.opToken);
    this.logger.warn(
      `${n} commands of ${device.id} returned to the queue: their answer was not sent`,
    );
  }

  /** Unenrollment: nothing more will be delivered or answered. */
  async closeQueue(device: DeviceRef, now: Date): Promise<void> {
    const { canceled, expired } = await this.repo.closeQueue(device.id, now);
    if (canceled || expired) {
      this.logger.log(
        `Unenrolled device ${device.id}: ${canceled} commands cancelled, ${expired} unanswered expired`,
      );
    }
  }

  /** Pending → RequestItemTooLong: no message the device accepts can carry it. */
  async failUndeliverable(
    device: DeviceRef,
    command: WinCommand,
    now: Date,
    why: string,
  ): Promise<void> {
    if (!(await this.repo.failTooLong(device.id, command.id, now))) return;
    this.logger.warn(
      `Command ${command.cmdId} of device ${device.id} can never be delivered: ${why}`,
    );
  }
}
