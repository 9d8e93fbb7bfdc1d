import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { CommandDeliveryService, DeviceRef } from '../commands/command-delivery.service';
import type { WinCommand } from '../commands/commands.types';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { CheckinContext, SyncmlSessionState } from '../devices/device-session.types';
import { DeviceSessionsService } from '../devices/device-sessions.service';
import { DeviceStatus } from '../devices/devices.types';
import { verifyClientCertificate } from '../pki/verify';
import { EventBus } from '../events/event-bus';
import {
  AlertCode,
  buildSyncml,
  envelopeBytes,
  measureCommand,
  parseSyncml,
  SyncmlDecodeError,
  type SyncmlCommand,
  type SyncmlHeaderInput,
  type SyncmlMessage,
} from './codec';
import { ClientIdentity } from './client-identity';
import { toSyncmlCommand } from './command-encoding';
import { DeviceMessageDigest, digestDeviceMessage, keepAliveGet } from './device-message';
import {
  hasUnanswered,
  mergeInventory,
  noteAnswers,
  noteHeader,
  placeMessage,
  startSession,
  syncHdrStatus,
} from './session-state';
import { MANAGEMENT_PATH, SYNCML_CONTENT_TYPE } from '../common/device-protocol';
import { plain, SyncmlHttpResult } from './syncml-session.types';

const BUSY_RETRY_MS = [25, 50, 100, 200, 400, 800, 1000, 1000, 1000, 1000];

interface Delivery {
  sent: WinCommand[];
  /** Queued commands remain that could not go in this message although none went. */
  more: boolean;
}

/** One management message in, one answer out (management-session.md §3, §6). */
@Injectable()
export class SyncmlSessionService {
  private readonly logger = new Logger('SyncmlSession');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: DeviceSessionsService,
    private readonly delivery: CommandDeliveryService,
    private readonly events: EventBus,
  ) {}

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
    const acquired = await this.acquire(identity.thumbprint, now);
    if (acquired.kind !== 'ok') {
      if (acquired.kind === 'busy') return plain(503, 'Device busy, retry', { 'Retry-After': '5' });
      this.logger.warn(`Refused certificate ${identity.thumbprint}: ${acquired.kind}`);
      return plain(401, 'Unknown or unenrolled device certificate');
    }
    const ctx = acquired.ctx;
    let saved = false;
    try {
      if (!(await this.certificateTrusted(ctx, identity, now))) {
        return plain(401, 'Unknown or unenrolled device certificate');
      }
      if (msg.header.source !== ctx.device.deviceId) {
        this.logger.warn(
          `SyncHdr Source ${msg.header.source} is not device ${ctx.device.deviceId} (its certificate)`,
        );
        return plain(403, 'SyncHdr Source does not match the client certificate');
      }
      const hash = createHash('sha256').update(body).digest('hex');
      const digest = digestDeviceMessage(msg);
      // §6 Identity: ./DevInfo/DevId, when sent, names the same device.
      if (digest.inventory.devId !== undefined && digest.inventory.devId !== ctx.device.deviceId) {
        this.logger.warn(
          `DevInfo/DevId ${digest.inventory.devId} is not device ${ctx.device.deviceId}`,
        );
        return plain(403, './DevInfo/DevId does not match the client certificate');
      }
      const place = placeMessage(ctx.session, msg.header, hash, digest.sessionStart);
      const prev = ctx.session as SyncmlSessionState;
      if (place === 'replay') {
        this.logger.log(
          `Replayed message ${msg.header.sessionId}/${msg.header.msgId} from ${ctx.device.deviceId}`,
        );
        return this.xml(prev.lastResponse);
      }
      if (place === 'late') {
        // §6 "Order and gaps": acknowledge the header, apply nothing.
        this.logger.warn(
          `Late message ${msg.header.sessionId}/${msg.header.msgId} from ${ctx.device.deviceId}`,
        );
        return this.xml(
          this.build(msg, String(prev.serverMsgId), [syncHdrStatus(msg.header.msgId)], true),
        );
      }
      const result = await this.process(msg, digest, place, ctx, hash, now);
      saved = true;
      return result;
    } finally {
      if (!saved) await this.sessions.release(ctx.device.id, ctx.lockToken);
    }
  }

  private async acquire(thumbprint: string, now: Date) {
    let result = await this.sessions.acquire(thumbprint, now, this.config.syncml.lockMs);
    for (const wait of BUSY_RETRY_MS) {
      if (result.kind !== 'busy') break;
      await new Promise((r) => setTimeout(r, wait));
      result = await this.sessions.acquire(thumbprint, new Date(), this.config.syncml.lockMs);
    }
    return result;
  }

  /**
   * Issue 4 §4: a certificate issued at enrollment must also chain to its enterprise's CA and be
   * within its validity (the thumbprint lookup alone would take an expired one). Certificates an
   * administrator registered are trusted by their stored thumbprint.
   */
  private async certificateTrusted(
    ctx: CheckinContext,
    identity: ClientIdentity,
    now: Date,
  ): Promise<boolean> {
    if (ctx.device.certificate?.source !== 'enrollment') {
      // Registered by an administrator: the stored thumbprint matched; the certificate must
      // still be within its validity.
      const cert = identity.certificate;
      const valid = now >= new Date(cert.validFrom) && now <= new Date(cert.validTo);
      if (!valid)
        this.logger.warn(`Refused certificate ${identity.thumbprint}: outside its validity`);
      return valid;
    }
    const caPem = await this.sessions.enterpriseCaPem(ctx.device.winEnterpriseId);
    const check = caPem
      ? verifyClientCertificate(identity.certificate.raw, caPem, now)
      : ({ ok: false, reason: 'no enterprise CA' } as const);
    if (check.ok) return true;
    this.logger.warn(
      `Refused certificate ${identity.thumbprint} of device ${ctx.device.deviceId}: ${check.reason}`,
    );
    return false;
  }

  private async process(
    msg: SyncmlMessage,
    digest: DeviceMessageDigest,
    place: 'new-session' | 'next',
    ctx: CheckinContext,
    hash: string,
    now: Date,
  ): Promise<SyncmlHttpResult> {
    const { device } = ctx;
    const ref: DeviceRef = { id: device.id, organizationId: device.organizationId };
    const session: SyncmlSessionState =
      place === 'new-session'
        ? startSession(ctx.session, msg.header, hash, now)
        : {
            ...(ctx.session as SyncmlSessionState),
            lastMsgId: msg.header.msgId,
            lastRequestHash: hash,
          };
    noteHeader(session, msg.header, digest);
    // Statuses first (§6: a message that ends a session may still carry them), then what the
    // last session left unanswered goes back to the queue.
    await this.record(digest, device, session, now);
    if (ctx.staleLock || (place === 'new-session' && hasUnanswered(ctx.session))) {
      await this.requeue(ref, session, now);
    }

    if (digest.unenroll) {
      this.logger.log(`Device ${device.deviceId} asked to unenroll (alert 1226)`);
      // The status first, then the queue: nothing can be queued for it in between.
      await this.sessions.markUnenrolled(device.organizationId, device.id, now);
      await this.events.emitAndWait('device.unenrolled', {
        organizationId: device.organizationId,
        winDeviceId: device.id,
        reason: 'device-request',
        at: now,
      });
    }
    if (digest.abort) await this.requeue(ref, session, now, session.sessionRef);

    session.serverMsgId += 1;
    const header = this.header(msg, String(session.serverMsgId));
    const statuses: SyncmlCommand[] = [syncHdrStatus(msg.header.msgId), ...digest.statuses];
    let out = statuses;
    let final = true;
    let sent: WinCommand[] = [];
    if (!msg.final && !digest.nextMessage) {
      // OMA-P §6.2: the device's package continues; ask for its next message, without Final.
      const next: SyncmlCommand = {
        kind: 'Alert',
        cmdId: String(statuses.length + 1),
        data: AlertCode.NextMessage,
        items: [],
      };
      out = [...statuses, next];
      final = false;
    } else if (!digest.abort && !digest.unenroll && device.status === DeviceStatus.Active) {
      const delivery = await this.deliver(ctx, session, header, statuses, now);
      sent = delivery.sent;
      out = [...statuses, ...sent.map(toSyncmlCommand)];
      for (const c of sent) (session.awaiting ??= {})[c.cmdId] = c.config.action;
      // Nothing fitted beside this message's Statuses, but the head fits a message of its own.
      // A message with only Statuses would end the session (§3.4; Windows also ends it without
      // Final), so a tiny Get keeps it going: the next message carries only the SyncHdr Status.
      if (delivery.more) out = [...out, keepAliveGet(session.serverMsgId)];
    }
    try {
      const response = buildSyncml({ header, commands: out, final });
      session.lastResponse = response;
      const inventory = mergeInventory(device.inventory, digest);
      const seenDue =
        !device.lastSeenAt ||
        now.getTime() - new Date(device.lastSeenAt).getTime() >=
          this.config.syncml.lastSeenIntervalMs;
      const kept = await this.sessions.release(device.id, ctx.lockToken, {
        session,
        inventory,
        lastSeenAt: seenDue || inventory ? now : undefined,
      });
      if (!kept) {
        // Another message took the lock after it expired: this answer's state was not saved, so
        // the device must not see it; it retries.
        this.logger.error(`Lost the lock of device ${device.deviceId}: answer withheld`);
        await this.unsend(ref, session, sent, now);
        return plain(503, 'Device session changed meanwhile, retry', { 'Retry-After': '1' });
      }
      return this.xml(response);
    } catch (e) {
      await this.unsend(ref, session, sent, now);
      throw e;
    }
  }

  /** Commands this session (or, without `sessionRef`, the device) left unanswered return to Pending. */
  private async requeue(
    ref: DeviceRef,
    session: SyncmlSessionState,
    now: Date,
    sessionRef?: string,
  ) {
    const r = await this.delivery.requeueUnanswered(ref, now, sessionRef);
    session.awaiting = {};
    session.drainedSeq = -1;
    if (r.requeued || r.expired) {
      this.logger.log(`Device ${ref.id}: ${r.requeued} commands requeued, ${r.expired} expired`);
    }
  }

  /** The commands taken for an answer that is not sent go back to Pending, untouched. */
  private async unsend(ref: DeviceRef, session: SyncmlSessionState, sent: WinCommand[], now: Date) {
    if (!sent.length) return;
    await this.delivery.returnUnsent(ref, session.sessionRef, now).catch((e: unknown) => {
      this.logger.error(
        `Could not return ${sent.length} unsent commands of ${ref.id}: ${String(e)}`,
      );
    });
  }

  /** Statuses, Results and alerts of the message, persisted before the answer is sent. */
  private async record(
    d: DeviceMessageDigest,
    device: DeviceRef,
    session: SyncmlSessionState,
    now: Date,
  ) {
    if (d.alerts.length) {
      await this.sessions.recordEvents(
        device.organizationId,
        device.id,
        d.alerts.map((a) => ({ ...a, receivedAt: now })),
      );
      for (const a of d.alerts) {
        this.events.emit('device.alert.received', {
          organizationId: device.organizationId,
          winDeviceId: device.id,
          ...a,
          receivedAt: now,
        });
      }
    }
    const answered = new Set(d.reports.map((r) => r.cmdRef));
    if (d.reports.length) {
      await this.events.emitAndWait('syncml.status.received', {
        organizationId: device.organizationId,
        winDeviceId: device.id,
        sessionRef: session.sessionRef,
        statuses: d.reports,
        results: d.results.filter((r) => answered.has(r.cmdRef)),
        receivedAt: now,
      });
      noteAnswers(session, d.reports);
    }
    const late = d.results.filter((r) => !answered.has(r.cmdRef));
    if (late.length) {
      await this.events.emitAndWait('syncml.results.received', {
        organizationId: device.organizationId,
        winDeviceId: device.id,
        results: late,
        receivedAt: now,
      });
    }
  }

  /**
   * Takes queued commands within the device's MaxMsgSize and the per-message cap (§3.8), FIFO:
   * a command that does not fit stops the message, so none overtakes another.
   */
  private async deliver(
    ctx: CheckinContext,
    session: SyncmlSessionState,
    header: SyncmlHeaderInput,
    statuses: SyncmlCommand[],
    now: Date,
  ): Promise<Delivery> {
    // §3.11: user-scope commands wait while the enrolled user is not logged on (Windows that
    // never reports LoginStatus gets them).
    const userScope = session.loginStatus === undefined || session.loginStatus === 'user';
    const drained =
      session.drainedSeq === ctx.queueSeq && (session.drainedUserScope !== false || !userScope);
    if (drained) return { sent: [], more: false };
    const limit = session.maxMsgSize ?? this.config.syncml.defaultMaxMsgSize;
    const envelope = envelopeBytes(header, true);
    const max = this.config.syncml.maxCommandsPerMessage;
    const device = { id: ctx.device.id, organizationId: ctx.device.organizationId };
    for (let attempt = 0; ; attempt++) {
      let bytes = envelope + statuses.reduce((n, s) => n + measureCommand(s), 0);
      let considered = 0;
      let blocked: { command: WinCommand; size: number } | undefined;
      const sent = await this.delivery.takeForDelivery(device, session.sessionRef, now, {
        maxCommands: max,
        userScope,
        fits: (command) => {
          considered++;
          const size = measureCommand(toSyncmlCommand(command));
          if (bytes + size > limit) {
            blocked = { command, size };
            return false;
          }
          bytes += size;
          return true;
        },
      });
      // Everything waiting went (or nothing was waiting): idle check-ins may skip the query
      // until the queue sequence moves.
      session.drainedSeq = considered < max && sent.length === considered ? ctx.queueSeq : -1;
      session.drainedUserScope = userScope;
      const head = blocked as { command: WinCommand; size: number } | undefined;
      if (sent.length || !head) return { sent, more: false };
      // A command that no message can carry would block the queue forever: it fails, and the
      // next ones get their turn in this message.
      const alone = envelope + measureCommand(syncHdrStatus('1')) + head.size;
      if (alone <= limit) return { sent, more: true };
      const why = `${alone} bytes > MaxMsgSize ${limit}`;
      await this.delivery.failUndeliverable(device, head.command, now, why);
      if (attempt >= 2) return { sent, more: true };
    }
  }

  private header(msg: SyncmlMessage, msgId: string): SyncmlHeaderInput {
    return {
      sessionId: msg.header.sessionId,
      msgId,
      target: msg.header.source,
      source: msg.header.target || `${this.config.device.publicBaseUrl}${MANAGEMENT_PATH}`,
    };
  }

  private build(
    msg: SyncmlMessage,
    msgId: string,
    commands: SyncmlCommand[],
    final: boolean,
  ): string {
    return buildSyncml({ header: this.header(msg, msgId), commands, final });
  }

  private xml(text: string): SyncmlHttpResult {
    return { status: 200, body: text, contentType: SYNCML_CONTENT_TYPE };
  }
}
