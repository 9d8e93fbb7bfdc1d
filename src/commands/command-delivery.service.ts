import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { EventBus } from '../events/event-bus';
import type { DeviceResultsReport, EventMap } from '../events/event-map';
import { CommandDeliveryRepository, StatusTransition } from './command-delivery.repository';
import { CommandStatus, statusNameForCode } from './command-status';
import type { CommandDataItem, WinCommand } from './commands.types';

export interface DeviceRef {
  id: string;
  organizationId: string;
}

export interface DeliveryBudget {
  maxCommands: number;
  /** Whether ./User/… commands may go (LoginStatus `user`, §3.11). */
  userScope: boolean;
  /** Whether the command still fits in the message being built (it then counts against it). */
  fits(command: WinCommand): boolean;
}

function toData(r: DeviceResultsReport | undefined): CommandDataItem[] | undefined {
  if (!r) return undefined;
  return r.items.map((i) => {
    const item: CommandDataItem = { path: i.path };
    if (i.format !== undefined) item.format = i.format;
    if (i.type !== undefined) item.type = i.type;
    if (i.value !== undefined) item.value = i.value;
    return item;
  });
}

/** The commands module's side of a management session: delivery, statuses, redelivery. */
@Injectable()
export class CommandDeliveryService {
  private readonly logger = new Logger('CommandDelivery');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: CommandDeliveryRepository,
    private readonly events: EventBus,
  ) {}

  /**
   * The device's Pending commands, FIFO, as many as fit the budget, each moved Pending → Awaiting
   * with sentAt and attempts+1. Two round trips whatever the count.
   */
  async takeForDelivery(
    device: DeviceRef,
    sessionRef: string,
    now: Date,
    budget: DeliveryBudget,
  ): Promise<WinCommand[]> {
    const candidates = await this.repo.nextPending(device.id, budget.maxCommands, budget.userScope);
    const chosen: WinCommand[] = [];
    for (const c of candidates) {
      if (!budget.fits(c)) break; // FIFO: never let a later command overtake one that did not fit
      chosen.push(c);
    }
    if (!chosen.length) return [];
    const moved = await this.repo.markSent(
      device.id,
      chosen.map((c) => c.id),
      sessionRef,
      now,
    );
    let sent = chosen;
    if (moved !== chosen.length) {
      // Something changed under us (a cancel between read and update): send only what we moved.
      const current = await this.repo.findForDevice(
        device.id,
        chosen.map((c) => c.cmdId),
      );
      const ours = new Set(
        current
          .filter(
            (c) => c.status === CommandStatus.Awaiting && c.sentAt?.getTime() === now.getTime(),
          )
          .map((c) => c.cmdId),
      );
      sent = chosen.filter((c) => ours.has(c.cmdId));
    }
    return sent.map((c) => ({
      ...c,
      status: CommandStatus.Awaiting,
      sentAt: now,
      attempts: c.attempts + 1,
    }));
  }

  /** Applies the Statuses (and joined Results) of one device message. */
  async recordStatuses(e: EventMap['syncml.status.received']): Promise<void> {
    const resultsByRef = new Map(e.results.map((r) => [r.cmdRef, r]));
    const refs = [
      ...new Set([...e.statuses.map((s) => s.cmdRef), ...e.results.map((r) => r.cmdRef)]),
    ];
    const known = new Map(
      (await this.repo.findForDevice(e.winDeviceId, refs)).map((c) => [c.cmdId, c]),
    );
    const transitions: (StatusTransition & { from: string; batchId: string })[] = [];
    const answered = new Set<string>();
    for (const s of e.statuses) {
      const c = known.get(s.cmdRef);
      if (!c) {
        this.logger.warn(
          `Status ${s.code} for unknown command ${s.cmdRef} from device ${e.winDeviceId}: ignored`,
        );
        continue;
      }
      if (c.status !== CommandStatus.Awaiting) {
        this.logger.warn(
          `Status ${s.code} for ${c.cmdId} in state ${c.status} (not Awaiting): ignored`,
        );
        continue;
      }
      if (s.cmd && s.cmd !== c.config.action) {
        this.logger.warn(
          `Status for ${c.cmdId} names ${s.cmd}, the command is ${c.config.action}: ignored`,
        );
        continue;
      }
      if (answered.has(c.cmdId)) {
        this.logger.warn(`A second Status for ${c.cmdId} in one message: ignored`);
        continue;
      }
      answered.add(c.cmdId);
      const to = statusNameForCode(s.code); // 101/213 keep it Awaiting
      const data = c.config.action === 'Get' ? toData(resultsByRef.get(c.cmdId)) : undefined;
      transitions.push({
        cmdId: c.cmdId,
        action: c.config.action,
        to,
        statusCode: s.code,
        receivedAt: e.receivedAt,
        data,
        from: c.status,
        batchId: c.batchId,
      });
    }
    const modified = await this.repo.applyStatuses(e.winDeviceId, transitions);
    let applied = transitions;
    if (modified !== transitions.length) {
      // Something moved a command meanwhile (unenrollment, a concurrent message): announce only
      // the transitions that really happened.
      this.logger.warn(
        `Expected ${transitions.length} status updates for ${e.winDeviceId}, applied ${modified}`,
      );
      const now = new Map(
        (
          await this.repo.findForDevice(
            e.winDeviceId,
            transitions.map((t) => t.cmdId),
          )
        ).map((c) => [c.cmdId, c]),
      );
      applied = transitions.filter((t) => {
        const c = now.get(t.cmdId);
        return (
          c?.status === t.to &&
          c.statusCode === t.statusCode &&
          c.receivedAt?.getTime() === t.receivedAt.getTime()
        );
      });
    }
    const late = e.results.filter((r) => !answered.has(r.cmdRef) && known.has(r.cmdRef));
    if (late.length) await this.attachLateResults(e.winDeviceId, late);
    for (const t of applied) {
      if (t.to === CommandStatus.Awaiting) continue;
      this.events.emit('command.status.changed', {
        organizationId: e.organizationId,
        winDeviceId: e.winDeviceId,
        batchId: t.batchId,
        cmdId: t.cmdId,
        from: t.from,
        to: t.to,
        statusCode: t.statusCode,
        at: e.receivedAt,
      });
    }
  }

  async attachLateResults(winDeviceId: string, results: DeviceResultsReport[]): Promise<void> {
    const n = await this.repo.attachResults(
      winDeviceId,
      results.map((r) => ({ cmdId: r.cmdRef, data: toData(r) ?? [] })),
    );
    if (n !== results.length)
      this.logger.warn(`${results.length - n} Results for ${winDeviceId} matched no Get`);
  }

  /** At the start of a new session: commands still Awaiting from earlier sessions. */
  requeueUnanswered(device: DeviceRef, now: Date, sessionRef?: string) {
    return this.repo.requeueUnanswered(
      device.id,
      this.config.syncml.maxDeliveryAttempts,
      now,
      sessionRef,
    );
  }

  async returnUnsent(device: DeviceRef, sessionRef: string, sentAt: Date): Promise<void> {
    const n = await this.repo.returnUnsent(device.id, sessionRef, sentAt);
    if (n)
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
    this.events.emit('command.status.changed', {
      organizationId: device.organizationId,
      winDeviceId: device.id,
      batchId: command.batchId,
      cmdId: command.cmdId,
      from: CommandStatus.Pending,
      to: CommandStatus.RequestItemTooLong,
      statusCode: null,
      at: now,
    });
  }
}
