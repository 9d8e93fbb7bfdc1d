import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { CommandDeliveryService, DeviceRef, Taken } from '../commands/command-delivery.service';
import { MANAGEMENT_PATH, SYNCML_CONTENT_TYPE } from '../common/device-protocol';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DeviceCheckinService } from '../devices/device-checkin.service';
import type { CheckinContext, CheckinResult } from '../devices/device-checkin.types';
import { DeviceStatus } from '../devices/devices.types';
import type { ClientIdentity } from '../tls/client-identity';
import { parseSyncml, SyncmlDecodeError, type SyncmlMessage } from './codec';
import { beginLarge, chooseDelivery, continueLarge, type LargeDelivery } from './delivery-units';
import {
  afterTake,
  composeAnswer,
  deliveryBudget,
  type DeviceFacts,
  type Effect,
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
    const opened = await this.checkIn(identity, now);
    if (opened.kind !== 'ok') {
      if (opened.kind === 'busy') return plain(503, 'Device busy, retry', { 'Retry-After': '5' });
      const why = opened.kind === 'untrusted' ? opened.reason : opened.kind;
      this.logger.warn(`Refused certificate ${identity.thumbprint}: ${why}`);
      return plain(401, 'Unknown or unenrolled device certificate');
    }
    const ctx = opened.ctx;
    const device: DeviceFacts = {
      deviceId: ctx.device.deviceId,
      active: ctx.device.status === DeviceStatus.Active,
      inventory: ctx.device.inventory,
      lastSeenAt: ctx.device.lastSeenAt,
      unenrolling: ctx.device.status === DeviceStatus.Unenrolling,
      push: ctx.device.push,
    };
    let saved = false;
    try {
      const plan = planMessage(
        {
          msg,
          requestHash: createHash('sha256').update(body).digest('hex'),
          device,
          session: sessionOf(ctx.session),
          staleLock: ctx.staleLock,
          now,
        },
        this.planner,
      );
      if (plan.kind === 'refuse') {
        this.logger.warn(plan.log);
        return plain(plan.status, plan.body);
      }
      if (plan.kind === 'answer') {
        this.logger.log(plan.log);
        return this.xml(plan.response);
      }
      const result = await this.process(plan, ctx, device, now);
      saved = true;
      return result;
    } finally {
      if (!saved) await this.checkins.release(ctx);
    }
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

  private async process(
    plan: Processing,
    ctx: CheckinContext,
    device: DeviceFacts,
    now: Date,
  ): Promise<SyncmlHttpResult> {
    const ref: DeviceRef = { id: ctx.device.id, organizationId: ctx.device.organizationId };
    for (const effect of plan.effects) await this.perform(effect, ref, now, plan);
    let taken: Taken = { sent: [], opToken: '' };
    let more = false;
    let large: LargeDelivery | undefined;
    if (plan.then === 'deliver') ({ taken, more, large } = await this.deliver(plan, ctx, ref, now));
    try {
      const answer = composeAnswer(plan, device, taken.sent, more, now, this.planner, large);
      const kept = await this.checkins.release(ctx, {
        session: toStored(answer.session),
        inventory: answer.inventory,
        lastSeenAt: answer.lastSeenAt,
        push: answer.push,
      });
      if (!kept) {
        // Another message took the lock after it expired: this answer's state was not saved, so
        // the device must not see it; it retries.
        this.logger.error(`Lost the lock of device ${device.deviceId}: answer withheld`);
        await this.unsend(ref, taken);
        return plain(503, 'Device session changed meanwhile, retry', { 'Retry-After': '1' });
      }
      return this.xml(answer.response);
    } catch (e) {
      await this.unsend(ref, taken);
      throw e;
    }
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

  /** The planner chooses among the queue's head; what it chose is taken conditionally. */
  private async deliver(
    plan: Processing,
    ctx: CheckinContext,
    ref: DeviceRef,
    now: Date,
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
        taken = await this.delivery.take(ref, choice.take, plan.session.sessionRef, now);
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
