import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { CommandDeliveryService } from '../commands/command-delivery.service';
import type { WinCommand } from '../commands/commands.types';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { CheckinContext, SyncmlSessionState } from '../devices/device-session.types';
import { DeviceSessionsService } from '../devices/device-sessions.service';
import { DeviceInventory, DeviceStatus } from '../devices/devices.types';
import { verifyClientCertificate } from '../enrollment/pki/verify';
import { EventBus } from '../events/event-bus';
import {
  AlertCode,
  buildSyncml,
  envelopeBytes,
  measureCommand,
  parseSyncml,
  SYNCHDR_CMD,
  SYNCHDR_CMD_REF,
  SyncmlDecodeError,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlHeaderInput,
  type SyncmlMessage,
} from './codec';
import { ClientIdentity } from './client-identity';
import { toSyncmlCommand } from './command-encoding';
import { DeviceMessageDigest, digestDeviceMessage } from './device-message';
import { plain, SYNCML_CONTENT_TYPE, SyncmlHttpResult } from './syncml-session.types';

const BUSY_RETRY_MS = [25, 50, 100, 200, 400, 800, 1000, 1000, 1000, 1000];

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
      if (e instanceof SyncmlDecodeError) {
        this.logger.warn(`Refused SyncML from ${identity.thumbprint}: ${e.reason} (${e.message})`);
        return plain(e.xmlReason === 'too-large' ? 413 : 400, `Invalid SyncML: ${e.message}`);
      }
      throw e;
    }
    const acquired = await this.acquire(identity.thumbprint, now);
    if (acquired.kind !== 'ok') {
      if (acquired.kind === 'busy') return plain(503, 'Device busy, retry', { 'Retry-After': '5' });
      this.logger.warn(`Refused certificate ${identity.thumbprint}: ${acquired.kind}`);
      return plain(401, 'Unknown or unenrolled device certificate');
    }
    const ctx = acquired.ctx;
    let released = false;
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
      const prev = ctx.session;
      if (
        prev &&
        prev.sessionId === msg.header.sessionId &&
        prev.lastMsgId === msg.header.msgId &&
        prev.lastRequestHash === hash
      ) {
        this.logger.log(
          `Replayed message ${msg.header.sessionId}/${msg.header.msgId} from ${ctx.device.deviceId}: stored answer`,
        );
        return this.xml(prev.lastResponse);
      }
      const result = await this.process(msg, ctx, hash, now);
      released = true;
      return result;
    } finally {
      if (!released) await this.sessions.release(ctx.device.id, ctx.lockToken);
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
   * administrator registered are trusted by their stored thumbprint, as before.
   */
  private async certificateTrusted(
    ctx: CheckinContext,
    identity: ClientIdentity,
    now: Date,
  ): Promise<boolean> {
    if (ctx.device.certificate?.source !== 'enrollment') return true;
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

  private xml(text: string): SyncmlHttpResult {
    return { status: 200, body: text, contentType: SYNCML_CONTENT_TYPE };
  }

  private async process(
    msg: SyncmlMessage,
    ctx: CheckinContext,
    hash: string,
    now: Date,
  ): Promise<SyncmlHttpResult> {
    const { device } = ctx;
    const hdr = msg.header;
    const digest = digestDeviceMessage(msg);
    const prev = ctx.session;
    const newSession =
      !prev || prev.sessionId !== hdr.sessionId || (digest.sessionStart && hdr.msgId === '1');
    const deviceRef = { id: device.id, organizationId: device.organizationId };
    let session: SyncmlSessionState;
    if (newSession) {
      session = {
        sessionId: hdr.sessionId,
        sessionRef: `${hdr.sessionId}@${now.toISOString()}`,
        startedAt: now,
        lastMsgId: hdr.msgId,
        serverMsgId: 0,
        lastRequestHash: hash,
        lastResponse: '',
        outstanding: 0,
        awaiting: {},
        drainedSeq: prev?.drainedSeq ?? -1,
        loginStatus: prev?.loginStatus,
        endedAt: null,
      };
      if (prev && prev.outstanding > 0) {
        // §6 "Sessions that stop mid-way": commands the last session left unanswered.
        const r = await this.delivery.requeueUnanswered(deviceRef, now);
        if (r.requeued) session.drainedSeq = -1;
        if (r.requeued || r.expired) {
          this.logger.log(
            `Device ${device.deviceId}: ${r.requeued} commands requeued, ${r.expired} expired`,
          );
        }
      }
    } else {
      // §6 "Order and gaps": a MsgID below the last one is a late duplicate we no longer have the
      // answer for. The same MsgID with another body (an identical one was replayed above) is
      // processed like a new message: its transitions are idempotent.
      if (prev && Number(hdr.msgId) < Number(prev.lastMsgId)) {
        this.logger.warn(
          `Late message ${hdr.sessionId}/${hdr.msgId} from ${device.deviceId}: acknowledged, not applied`,
        );
        await this.sessions.release(device.id, ctx.lockToken);
        return this.lateAnswer(msg, prev);
      }
      session = { ...(prev as SyncmlSessionState), lastMsgId: hdr.msgId, lastRequestHash: hash };
    }
    if (digest.loginStatus) session.loginStatus = digest.loginStatus;
    const maxMsgSize = Number(hdr.meta?.maxMsgSize);
    // MS-MDM 2.2.5.3: the device's limit for our messages (Win 8.1/10 1507 send none).
    if (Number.isInteger(maxMsgSize) && maxMsgSize > 0) session.maxMsgSize = maxMsgSize;

    await this.record(digest, ctx, session, now);
    let unenrolled: Date | undefined;
    if (digest.unenroll) {
      unenrolled = now;
      await this.events.emitAndWait('device.unenrolled', {
        organizationId: device.organizationId,
        winDeviceId: device.id,
        reason: 'device-request',
        at: now,
      });
      this.logger.log(`Device ${device.deviceId} asked to unenroll (alert 1226)`);
    }
    if (digest.abort) {
      // Alert 1223: commands sent in this session without a status return to Pending.
      await this.delivery.requeueUnanswered(deviceRef, now, session.sessionRef);
      session.outstanding = 0;
      session.awaiting = {};
      session.drainedSeq = -1;
    }

    session.serverMsgId += 1;
    const header: SyncmlHeaderInput = {
      sessionId: hdr.sessionId,
      msgId: String(session.serverMsgId),
      target: hdr.source,
      source: hdr.target || `${this.config.device.publicBaseUrl}/ManagementServer/MDM.svc`,
    };
    const statuses: SyncmlCommand[] = [
      {
        kind: 'Status',
        cmdId: '1',
        msgRef: hdr.msgId,
        cmdRef: SYNCHDR_CMD_REF,
        cmd: SYNCHDR_CMD,
        targetRef: [],
        sourceRef: [],
        data: SyncmlStatus.Ok,
        items: [],
      },
      ...digest.statuses,
    ];
    let out: SyncmlCommand[] = statuses;
    let final = true;
    if (!msg.final) {
      // OMA-P §6.2: the device's package continues; ask for its next message, no Final.
      out = [
        ...statuses,
        {
          kind: 'Alert',
          cmdId: String(statuses.length + 1),
          data: AlertCode.NextMessage,
          items: [],
        },
      ];
      final = false;
    } else if (!digest.abort && !unenrolled && device.status === DeviceStatus.Active) {
      const sent = await this.deliver(ctx, session, header, statuses, now);
      out = [...statuses, ...sent.map(toSyncmlCommand)];
      session.outstanding += sent.length;
      session.awaiting ??= {};
      for (const c of sent) session.awaiting[c.cmdId] = c.config.action;
    }
    const response = buildSyncml({ header, commands: out, final });
    session.lastResponse = response;
    if (final && out.length === statuses.length) session.endedAt = now;
    const inventory = this.mergeInventory(device.inventory, digest);
    const seenDue =
      !device.lastSeenAt ||
      now.getTime() - new Date(device.lastSeenAt).getTime() >=
        this.config.syncml.lastSeenIntervalMs;
    const saved = await this.sessions.release(device.id, ctx.lockToken, {
      session,
      inventory,
      lastSeenAt: seenDue || inventory ? now : undefined,
      unenrolled,
    });
    if (!saved)
      this.logger.error(
        `Lost the lock of device ${device.deviceId} while processing: state not saved`,
      );
    return this.xml(response);
  }

  /** Statuses, Results and alerts of the message, persisted before the answer is sent. */
  private async record(
    d: DeviceMessageDigest,
    ctx: CheckinContext,
    session: SyncmlSessionState,
    now: Date,
  ) {
    const { device } = ctx;
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
    if (!d.reports.length && !d.results.length) return;
    const answered = new Set(d.reports.map((r) => r.cmdRef));
    const joined = d.results.filter((r) => answered.has(r.cmdRef));
    const late = d.results.filter((r) => !answered.has(r.cmdRef));
    if (d.reports.length) {
      await this.events.emitAndWait('syncml.status.received', {
        organizationId: device.organizationId,
        winDeviceId: device.id,
        sessionRef: session.sessionRef,
        statuses: d.reports,
        results: joined,
        receivedAt: now,
      });
      // Only final Statuses for commands this session sent (and of their verb) count: one for an
      // unknown, earlier or already answered command must not hide a command left unanswered
      // from the requeue at the next session start.
      const awaiting = session.awaiting ?? {};
      for (const r of d.reports) {
        const verb = awaiting[r.cmdRef];
        if (verb === undefined || (r.cmd && r.cmd !== verb)) continue;
        if (r.code === SyncmlStatus.InProgress || r.code === SyncmlStatus.ChunkedItemAccepted)
          continue;
        delete awaiting[r.cmdRef];
        session.outstanding = Math.max(0, session.outstanding - 1);
      }
    }
    if (late.length) {
      await this.events.emitAndWait('syncml.results.received', {
        organizationId: device.organizationId,
        winDeviceId: device.id,
        results: late,
        receivedAt: now,
      });
    }
  }

  /** Takes queued commands within the device's MaxMsgSize and the per-message cap (§3.8). */
  private async deliver(
    ctx: CheckinContext,
    session: SyncmlSessionState,
    header: SyncmlHeaderInput,
    statuses: SyncmlCommand[],
    now: Date,
  ): Promise<WinCommand[]> {
    if (session.drainedSeq === ctx.queueSeq) return [];
    const maxMsgSize = session.maxMsgSize ?? this.config.syncml.defaultMaxMsgSize;
    let bytes = envelopeBytes(header, true) + statuses.reduce((n, s) => n + measureCommand(s), 0);
    const max = this.config.syncml.maxCommandsPerMessage;
    let considered = 0;
    const sent = await this.delivery.takeForDelivery(
      { id: ctx.device.id, organizationId: ctx.device.organizationId },
      session.sessionRef,
      now,
      {
        maxCommands: max,
        fits: (c) => {
          considered++;
          const size = measureCommand(toSyncmlCommand(c));
          if (bytes + size > maxMsgSize) return false;
          bytes += size;
          return true;
        },
      },
    );
    // Nothing was waiting: remember the queue sequence so idle check-ins skip the query.
    if (considered === 0) session.drainedSeq = ctx.queueSeq;
    else if (considered < max && sent.length === considered) session.drainedSeq = ctx.queueSeq;
    else session.drainedSeq = -1;
    return sent;
  }

  private mergeInventory(
    current: DeviceInventory | undefined,
    d: DeviceMessageDigest,
  ): DeviceInventory | undefined {
    const inv = d.inventory;
    if (!Object.keys(inv).length) return undefined;
    const merged: DeviceInventory = {
      ...current,
      ...inv,
      details: { ...current?.details, ...inv.details },
    };
    if (!merged.details || !Object.keys(merged.details).length) delete merged.details;
    return JSON.stringify(merged) === JSON.stringify(current ?? {}) ? undefined : merged;
  }

  private lateAnswer(msg: SyncmlMessage, prev: SyncmlSessionState): SyncmlHttpResult {
    const response = buildSyncml({
      header: {
        sessionId: msg.header.sessionId,
        msgId: String(prev.serverMsgId),
        target: msg.header.source,
        source: msg.header.target,
      },
      commands: [
        {
          kind: 'Status',
          cmdId: '1',
          msgRef: msg.header.msgId,
          cmdRef: '0',
          cmd: 'SyncHdr',
          targetRef: [],
          sourceRef: [],
          data: SyncmlStatus.Ok,
          items: [],
        },
      ],
      final: true,
    });
    return this.xml(response);
  }
}
