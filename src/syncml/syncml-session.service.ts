import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import {
  asSent,
  CommandDeliveryService,
  DeviceRef,
  Taken,
} from '../commands/command-delivery.service';
import type { WinCommand } from '../commands/commands.types';
import { MANAGEMENT_PATH, SYNCML_CONTENT_TYPE } from '../common/device-protocol';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DeviceCheckinService } from '../devices/device-checkin.service';
import type {
  CheckinContext,
  CheckinPatch,
  CheckinResult,
  CheckinSnapshot,
} from '../devices/device-checkin.types';
import { DeviceStatus, type WinDevice } from '../devices/devices.types';
import type { ClientIdentity } from '../tls/client-identity';
import { parseSyncml, SyncmlDecodeError, type SyncmlMessage } from './codec';
import { beginLarge, chooseDelivery, continueLarge, type LargeDelivery } from './delivery-units';
import {
  afterTake,
  type Answer,
  composeAnswer,
  deliveryBudget,
  type DeviceFacts,
  type Effect,
  lockFree,
  type MessagePlan,
  planMessage,
  type PlannerConfig,
  type Processing,
} from './session-planner';
import { noteStoredInterim, sessionOf, toStored } from './session-state';
import { plain, SyncmlHttpResult } from './syncml-session.types';

/** How long to wait for a busy device's lock before answering 503, and how to wait. */
export interface BusyRetry {
  delaysMs: readonly number[];
  wait(ms: number): Promise<void>;
}
export const BUSY_RETRY = Symbol('BUSY_RETRY');
export const DEFAULT_BUSY_RETRY: BusyRetry = {
  delaysMs: [25, 50, 100, 200, 400, 800, 1000, 1000, 1000, 1000],
  wait: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/**
 * One management message in, one answer out (management-session.md §3, §6): the I/O around the
 * pure planner (session-planner.ts).
 */
@Injectable()
export class SyncmlSessionService {
  private readonly logger = new Logger('SyncmlSession');
  private readonly planner: PlannerConfig;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly checkins: DeviceCheckinService,
    private readonly delivery: CommandDeliveryService,
    @Inject(BUSY_RETRY) private readonly busy: BusyRetry,
  ) {
    this.planner = {
      serverUrl: `${config.device.publicBaseUrl}${MANAGEMENT_PATH}`,
      defaultMaxMsgSize: config.syncml.defaultMaxMsgSize,
      maxCommandsPerMessage: config.syncml.maxCommandsPerMessage,
      lastSeenIntervalMs: config.syncml.lastSeenIntervalMs,
      providerId: config.enrollment.providerId,
      pushChannel: config.push.enabled ? { refreshMs: config.push.channelRefreshMs } : undefined,
    };
  }

  async handle(
    body: Buffer,
    identity: ClientIdentity | null,
    now = new Date(),
  ): Promise<SyncmlHttpResult> {
    if (!identity) return plain(401, 'A client certificate is required');
    let msg: SyncmlMessage;
    try {
      msg = parseSyncml(body, { maxBytes: this.config.syncml.bodyLimitBytes });
    } catch (e) {
      if (!(e instanceof SyncmlDecodeError)) throw e;
      this.logger.warn(`Refused SyncML from ${identity.thumbprint}: ${e.reason} (${e.message})`);
      return plain(e.xmlReason === 'too-large' ? 413 : 400, `Invalid SyncML: ${e.message}`);
    }
    const requestHash = createHash('sha256').update(body).digest('hex');
    if (mayGoLockFree(msg)) {
      const answered = await this.withoutLock(msg, requestHash, identity, now);
      if (answered) return answered;
    }
    const opened = await this.checkIn(identity, now);
    if (opened.kind !== 'ok') {
      if (opened.kind === 'busy') return plain(503, 'Device busy, retry', { 'Retry-After': '5' });
      const why = opened.kind === 'untrusted' ? opened.reason : opened.kind;
      this.logger.warn(`Refused certificate ${identity.thumbprint}: ${why}`);
      return plain(401, 'Unknown or unenrolled device certificate');
    }
    const ctx = opened.ctx;
    const device = deviceFacts(ctx.device);
    let saved = false;
    try {
      const plan = planMessage(
        {
          msg,
          requestHash,
          device,
          session: sessionOf(ctx.session),
          staleLock: ctx.staleLock,
          now,
        },
        this.planner,
      );
      if (plan.kind !== 'process') return await this.settled(plan, ctx.device, now);
      const save = (patch: CheckinPatch) => this.checkins.release(ctx, patch);
      const result = await this.process(plan, ctx, device, now, save);
      saved = true;
      return result;
    } finally {
      if (!saved) await this.checkins.release(ctx);
    }
  }

  /**
   * The idle fast path (decisions.md): one read of the device, no lock. Idle, the answer is sent
   * with nothing written; with no effect but delivery, the answer is saved conditionally (before
   * its commands are taken, when there are any). Null: the message takes the lock (checkIn),
   * which also refuses what must be refused.
   */
  private async withoutLock(
    msg: SyncmlMessage,
    requestHash: string,
    identity: ClientIdentity,
    now: Date,
  ): Promise<SyncmlHttpResult | null> {
    const snapshot = await this.checkins.peek(identity, now);
    if (!snapshot) return null;
    const device = deviceFacts(snapshot.device);
    const session = sessionOf(snapshot.session);
    const input = { msg, requestHash, device, session, staleLock: false, now };
    const plan = planMessage(input, this.planner);
    // Refusals, replays and late messages write nothing either (but a replay's take).
    if (plan.kind !== 'process') return this.settled(plan, snapshot.device, now);
    const route = lockFree(plan, snapshot.queueMark, device, now, this.planner);
    if (!route) return null;
    if (route.kind === 'idle') return this.xml(route.response);
    if (route.kind === 'deliver') {
      return this.deliverWithoutLock(plan, snapshot, device, now, () =>
        planMessage(input, this.planner),
      );
    }
    const ctx = { device: snapshot.device, queueMark: snapshot.queueMark };
    return this.process(plan, ctx, device, now, (patch) => this.checkins.commit(snapshot, patch));
  }

  /**
   * A session start with something queued, without the lock (decisions.md §40): the commands
   * are chosen, the answer listing them as awaiting is saved on the snapshot's condition, and
   * only then are they taken. A crash between the two leaves them Pending (the next session's
   * requeue looks for Awaiting ones only), so nothing is lost and nothing is stuck Awaiting. A
   * take that moves fewer than chosen (a cancel came in between) rebuilds the answer from the
   * same snapshot with what moved and saves it again, so the replay record is what is sent.
   * `replan`: the same message planned again from the snapshot (pure).
   */
  private async deliverWithoutLock(
    plan: Processing,
    snapshot: CheckinSnapshot,
    device: DeviceFacts,
    now: Date,
    replan: () => MessagePlan,
  ): Promise<SyncmlHttpResult> {
    const ref: DeviceRef = {
      id: snapshot.device.id,
      organizationId: snapshot.device.organizationId,
    };
    const ctx = { queueMark: snapshot.queueMark };
    let chosen: WinCommand[] = [];
    const dry = (commands: WinCommand[]): Promise<Taken> => {
      chosen = commands;
      return Promise.resolve({ sent: asSent(commands, now), opToken: '' });
    };
    const planned = await this.deliver(plan, ctx, ref, now, dry);
    const answer = composeAnswer(
      plan,
      device,
      planned.taken.sent,
      planned.more,
      now,
      this.planner,
      planned.large,
    );
    if (!(await this.checkins.commit(snapshot, patchOf(answer)))) return this.withheld(device);
    if (!chosen.length) return this.xml(answer.response);
    const taken = await this.delivery.take(ref, chosen, plan.session.sessionRef, now);
    if (taken.sent.length === chosen.length) return this.xml(answer.response);
    const retell = (): Answer => {
      const again = replan();
      if (again.kind !== 'process') throw new Error('A message planned twice planned differently');
      // A session start continues no object (startSession): only one begun here, if it moved.
      const started = planned.large?.started;
      const large =
        started && taken.sent.some((c) => c.cmdId === started.cmdId) ? planned.large : undefined;
      if (large) again.session.chunk = plan.session.chunk;
      // Not drained, as under the lock: the next check-in reads the queue again.
      again.session.drainedSeq = -1;
      again.session.drainedUserScope = plan.session.drainedUserScope;
      return composeAnswer(again, device, taken.sent, planned.more, now, this.planner, large);
    };
    return this.saveAnswerOrUnsend(ref, taken, device, retell, (patch) =>
      this.checkins.commit(snapshot, patch),
    );
  }

  /** The answer's state was not saved (another message came first): the device retries. */
  private withheld(device: DeviceFacts): SyncmlHttpResult {
    this.logger.error(`Lost the lock of device ${device.deviceId}: answer withheld`);
    return plain(503, 'Device session changed meanwhile, retry', { 'Retry-After': '1' });
  }

  private async settled(
    plan: Exclude<MessagePlan, Processing>,
    d: WinDevice,
    now: Date,
  ): Promise<SyncmlHttpResult> {
    if (plan.kind === 'refuse') {
      this.logger.warn(plan.log);
      return plain(plan.status, plan.body);
    }
    this.logger.log(plan.log);
    if (plan.retake) {
      const { sessionRef, cmdIds } = plan.retake;
      await this.delivery.retake(
        { id: d.id, organizationId: d.organizationId },
        cmdIds,
        sessionRef,
        now,
      );
    }
    return this.xml(plan.response);
  }

  /** The device under its lock; a busy one is retried for a few seconds before giving up. */
  private async checkIn(identity: ClientIdentity, now: Date): Promise<CheckinResult> {
    let result = await this.checkins.checkIn(identity, now);
    for (const ms of this.busy.delaysMs) {
      if (result.kind !== 'busy') break;
      await this.busy.wait(ms);
      result = await this.checkins.checkIn(identity, new Date());
    }
    return result;
  }

  /** `save`: the conditional save of the answer's state; false when another message came first. */
  private async process(
    plan: Processing,
    ctx: Pick<CheckinContext, 'device' | 'queueMark'>,
    device: DeviceFacts,
    now: Date,
    save: (patch: CheckinPatch) => Promise<boolean>,
  ): Promise<SyncmlHttpResult> {
    const ref: DeviceRef = { id: ctx.device.id, organizationId: ctx.device.organizationId };
    for (const effect of plan.effects) await this.perform(effect, ref, now, plan);
    let taken: Taken = { sent: [], opToken: '' };
    let more = false;
    let large: LargeDelivery | undefined;
    if (plan.then === 'deliver') {
      const take = (chosen: WinCommand[]) =>
        this.delivery.take(ref, chosen, plan.session.sessionRef, now);
      ({ taken, more, large } = await this.deliver(plan, ctx, ref, now, take));
    }
    return this.saveAnswerOrUnsend(
      ref,
      taken,
      device,
      () => composeAnswer(plan, device, taken.sent, more, now, this.planner, large),
      save,
    );
  }

  /**
   * The answer `compose` builds around the commands already `taken`, sent only once `save` has
   * stored its state. When the save loses (another message took the lock after it expired or,
   * without the lock, came in between) the device must not see the answer: its commands go back
   * to Pending and the device is told to retry; they go back too when composing or saving throws.
   */
  private async saveAnswerOrUnsend(
    ref: DeviceRef,
    taken: Taken,
    device: DeviceFacts,
    compose: () => Answer,
    save: (patch: CheckinPatch) => Promise<boolean>,
  ): Promise<SyncmlHttpResult> {
    try {
      const answer = compose();
      if (await save(patchOf(answer))) return this.xml(answer.response);
    } catch (e) {
      await this.unsend(ref, taken);
      throw e;
    }
    await this.unsend(ref, taken);
    return this.withheld(device);
  }

  private async perform(
    effect: Effect,
    ref: DeviceRef,
    now: Date,
    plan: Processing,
  ): Promise<void> {
    switch (effect.kind) {
      case 'record-alerts':
        return this.checkins.recordEvents(
          ref.organizationId,
          ref.id,
          effect.alerts.map((a) => ({ ...a, receivedAt: now })),
        );
      case 'record-statuses': {
        const applied = await this.delivery.recordStatuses(ref, effect.reports);
        noteStoredInterim(plan.session, effect.reports.statuses, applied);
        return;
      }
      case 'attach-late-results':
        await this.delivery.attachLateResults(ref, effect.results);
        return;
      case 'requeue':
        return this.delivery.requeueUnanswered(ref, now, effect.sessionRef);
      case 'async-results':
        await this.delivery.recordAsyncResults(ref, effect.results, now);
        return;
      case 'expire-interim': {
        // The store says which interim commands are still open: the session tracks only those.
        const open = await this.delivery.expireInterim(ref, now);
        if (Object.keys(open).length) plan.session.interim = open;
        else delete plan.session.interim;
        return;
      }
      case 'unenroll':
        this.logger.log(`Device ${ref.id} asked to unenroll (alert 1226)`);
        return this.checkins.unenrollOnRequest(ref.organizationId, ref.id, now);
      case 'unenroll-confirmed':
        this.logger.log(`Device ${ref.id} accepted the Unenroll Exec`);
        await this.checkins.finishUnenroll(ref.organizationId, ref.id, now);
        return;
    }
  }

  /**
   * The planner chooses among the queue's head; what it chose is taken conditionally by `take`
   * (without the lock, a take that only notes the choice: deliverWithoutLock takes after saving).
   */
  private async deliver(
    plan: Processing,
    ctx: Pick<CheckinContext, 'queueMark'>,
    ref: DeviceRef,
    now: Date,
    take: (chosen: WinCommand[]) => Promise<Taken>,
  ): Promise<{ taken: Taken; more: boolean; large?: LargeDelivery }> {
    let budget = deliveryBudget(plan, ctx.queueMark, this.planner);
    let taken: Taken = { sent: [], opToken: '' };
    let large: LargeDelivery | undefined;
    const progress = plan.session.chunk;
    if (progress) {
      // A large object under way continues first; other commands only after its last chunk.
      const command = await this.delivery.inFlight(ref, progress.cmdId, plan.session.sessionRef);
      const next = continueLarge(plan.session, budget, command);
      if (next) {
        large = next.large;
        if (!next.budget) return { taken, more: false, large };
        budget = next.budget;
      }
    }
    if (budget.skip) return { taken, more: false, large };
    for (let attempt = 0; ; attempt++) {
      const candidates = await this.delivery.pending(ref, budget.maxCommands, budget.userScope);
      const choice = chooseDelivery(budget, candidates, plan.session);
      if (choice.take.length) {
        taken = await take(choice.take);
      }
      const started = choice.started;
      if (started && taken.sent.some((c) => c.id === started.command.id)) {
        large = { ...large, ...beginLarge(plan.session, started) };
      }
      const next = afterTake(plan, budget, choice, taken.sent.length, ctx.queueMark, attempt);
      if (next.kind === 'answer') {
        return { taken, more: next.more || (!!choice.wait && !taken.sent.length), large };
      }
      // An atomic batch fails as a whole: never part of it delivered without the rest.
      for (const c of choice.blocked?.group ?? [next.command]) {
        await this.delivery.failUndeliverable(ref, c, now, next.why);
      }
      if (!next.retry) return { taken, more: true, large };
    }
  }

  /** The commands taken for an answer that is not sent go back to Pending, untouched. */
  private async unsend(ref: DeviceRef, taken: Taken): Promise<void> {
    await this.delivery.returnUnsent(ref, taken).catch((e: unknown) => {
      this.logger.error(
        `Could not return ${taken.sent.length} unsent commands of ${ref.id}: ${String(e)}`,
      );
    });
  }

  private xml(text: string): SyncmlHttpResult {
    return { status: 200, body: text, contentType: SYNCML_CONTENT_TYPE };
  }
}

function patchOf(answer: Answer): CheckinPatch {
  return {
    session: toStored(answer.session),
    inventory: answer.inventory,
    lastSeenAt: answer.lastSeenAt,
    push: answer.push,
  };
}

function deviceFacts(d: WinDevice): DeviceFacts {
  return {
    deviceId: d.deviceId,
    active: d.status === DeviceStatus.Active,
    inventory: d.inventory,
    lastSeenAt: d.lastSeenAt,
    unenrolling: d.status === DeviceStatus.Unenrolling,
    push: d.push,
  };
}

/**
 * Only a message that reports nothing (no Status, no Results: the first message of a session)
 * may be answered without the lock; any other takes it at once, without a read before.
 */
function mayGoLockFree(msg: SyncmlMessage): boolean {
  return (
    msg.header.msgId === '1' &&
    !msg.commands.some((c) => c.kind === 'Status' || c.kind === 'Results')
  );
}
