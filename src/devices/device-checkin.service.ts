import { Inject, Injectable } from '@nestjs/common';
import type { X509Certificate } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { EventBus } from '../events/event-bus';
import { verifyClientCertificate } from '../pki/verify';
import type { DeviceEvent } from './device-event.schema';
import {
  CheckinContext,
  CheckinPatch,
  CheckinResult,
  CheckinSnapshot,
} from './device-checkin.types';
import { DeviceCertificatesRepository } from './device-certificates.repository';
import { DeviceCheckinsRepository } from './device-checkins.repository';
import { EnterpriseCaService } from './enterprise-ca.service';
import { DeviceStatus, renewalState, type WinDevice } from './devices.types';

export interface DeviceCertificate {
  /** SHA-1 of the DER certificate, upper-case hex. */
  thumbprint: string;
  certificate: X509Certificate;
}

/**
 * What the device-facing endpoint needs from the devices module: the device a client certificate
 * identifies, under its per-device lock; the lock's release with the state to keep; the queue
 * marker; unenrollment; the alerts a device raised.
 */
@Injectable()
export class DeviceCheckinService {
  /**
   * Certificates found to chain to their enterprise's CA (the CA's PEM), by the parsed object:
   * the client identity is resolved once per TLS connection (src/tls/client-identity.ts), so
   * this holds for the connection's life and the chain is verified once per connection.
   */
  private readonly chained = new WeakMap<X509Certificate, string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: DeviceCheckinsRepository,
    private readonly cas: EnterpriseCaService,
    private readonly events: EventBus,
    private readonly certificates: DeviceCertificatesRepository,
  ) {}

  /**
   * The enrolled device holding this certificate, locked for one message. A certificate that no
   * longer earns trust leaves the device unlocked (`untrusted`).
   */
  async checkIn(cert: DeviceCertificate, now: Date): Promise<CheckinResult> {
    const acquired = await this.repo.acquire(cert.thumbprint, now, this.config.syncml.lockMs);
    if (acquired.kind !== 'ok') return acquired;
    const ctx = acquired.ctx;
    if (unenrollTimedOut(ctx.device, now)) {
      // The PC never confirmed in time: it is unenrolled now, and this certificate refused.
      await this.release(ctx);
      await this.finishUnenroll(ctx.device.organizationId, ctx.device.id, now);
      return { kind: 'unenrolled' };
    }
    let why: string | undefined;
    try {
      // The device was found by this certificate's thumbprint.
      why = await this.earnsTrust(ctx.device, cert, now);
      if (why === undefined) await this.adoptIfRenewed(ctx, cert.thumbprint, now);
    } catch (e) {
      await this.release(ctx);
      throw e;
    }
    if (why === undefined) return acquired;
    await this.release(ctx);
    return { kind: 'untrusted', reason: why };
  }

  /**
   * The device holding this certificate as one read finds it, without its lock (the idle fast
   * path): null when a message of it must take the lock (checkIn), including every case checkIn
   * refuses, so the refusal and its log stay in one place.
   */
  async peek(cert: DeviceCertificate, now: Date): Promise<CheckinSnapshot | null> {
    const snapshot = await this.repo.peek(cert.thumbprint);
    if (!snapshot) return null;
    const why = await this.earnsTrust(snapshot.device, cert, now);
    return why === undefined ? snapshot : null;
  }

  /**
   * Saves a message processed from a snapshot; false when another message came in between. Once
   * saved, the snapshot holds the new token: a second save of the same message is conditional on
   * nothing having come in since the first.
   */
  async commit(snapshot: CheckinSnapshot, patch: CheckinPatch): Promise<boolean> {
    const savedBy = await this.repo.commit(snapshot.device.id, snapshot.savedBy, patch);
    if (savedBy === null) return false;
    snapshot.savedBy = savedBy;
    return true;
  }

  /**
   * First session with a renewed certificate: it becomes the device's certificate and the one it
   * replaces stops opening sessions (its binding is released).
   */
  private async adoptIfRenewed(ctx: CheckinContext, thumbprint: string, now: Date): Promise<void> {
    const { device } = ctx;
    const renewed = device.renewal.certificate;
    if (renewed?.thumbprint !== thumbprint) return;
    const dueAt = device.renewal.nextDueAt;
    if (!(await this.repo.adoptRenewedCertificate(device.id, ctx.lockToken, renewed, dueAt))) {
      return;
    }
    const previous = device.certificate?.thumbprint;
    ctx.device = {
      ...device,
      certificate: renewed,
      renewal: { dueAt, state: renewalState(renewed, { dueAt }, now) },
    };
    if (previous && previous !== thumbprint) await this.certificates.unbind(previous, device.id);
  }

  /**
   * Why this client certificate does not prove to be `device` now — not its current certificate,
   * or one that no longer earns trust (as at check-in) — or undefined when it does. Re-enrollment
   * uses it: a device that shows its current certificate in the TLS handshake may enroll again.
   */
  async distrustFor(
    device: WinDevice,
    cert: DeviceCertificate,
    now: Date,
  ): Promise<string | undefined> {
    if (
      device.certificate?.thumbprint !== cert.thumbprint &&
      device.renewal.certificate?.thumbprint !== cert.thumbprint
    ) {
      return "not the device's current certificate";
    }
    return this.earnsTrust(device, cert, now);
  }

  /**
   * Issue 4 §4: a certificate issued at enrollment must also chain to its enterprise's CA and be
   * within its validity (the thumbprint lookup alone would take an expired one). Certificates an
   * administrator registered are trusted by their stored thumbprint, within their validity.
   */
  private async earnsTrust(
    device: WinDevice,
    cert: DeviceCertificate,
    now: Date,
  ): Promise<string | undefined> {
    if (device.certificate?.source !== 'enrollment') {
      const c = cert.certificate;
      const valid = now >= new Date(c.validFrom) && now <= new Date(c.validTo);
      return valid ? undefined : 'outside its validity';
    }
    const caPem = await this.cas.caCertificatePem(device.winEnterpriseId);
    if (!caPem) return 'no enterprise CA';
    const c = cert.certificate;
    if (this.chained.get(c) === caPem) {
      // Chained to this CA before (the same connection): only the time can make it fail now.
      if (now < new Date(c.validFrom)) return 'not-yet-valid';
      return now > new Date(c.validTo) ? 'expired' : undefined;
    }
    const check = verifyClientCertificate(c.raw, caPem, now);
    if (!check.ok) return check.reason;
    this.chained.set(c, caPem);
    return undefined;
  }

  /** Releases the lock; with a patch, saves it in the same conditional update. */
  release(ctx: Pick<CheckinContext, 'device' | 'lockToken'>, patch?: CheckinPatch) {
    return this.repo.release(ctx.device.id, ctx.lockToken, patch);
  }

  /**
   * Runs a write of commands for the device between the queue marker's two moves, so a check-in
   * never trusts an empty queue it read while that write was in flight — even if this process
   * dies between the write and the marker (docs/decisions.md).
   */
  async appendToQueue<T>(winDeviceId: string, write: () => Promise<T>): Promise<T> {
    await this.repo.beginQueueWrite(winDeviceId);
    try {
      return await write();
    } finally {
      await this.repo.settleQueueWrite(winDeviceId);
    }
  }

  /**
   * appendToQueue for the organization's active device named by winDeviceId or Windows device
   * id, found by the same update that opens the bracket (one round trip less per enqueue).
   * Null when no active device matched: nothing was written and the marker did not move.
   */
  async appendToActiveQueue<T>(
    orgId: string,
    winDeviceIdOrDeviceId: string,
    write: (device: WinDevice) => Promise<T>,
  ): Promise<{ result: T } | null> {
    const device = await this.repo.beginQueueWriteIfActive(orgId, winDeviceIdOrDeviceId);
    if (!device) return null;
    try {
      return { result: await write(device) };
    } finally {
      await this.repo.settleQueueWrite(device.id);
    }
  }

  /**
   * The device asked to leave management (Alert 1226): its status first, then the queue closes
   * (the commands module listens): nothing can be queued for it in between.
   */
  async unenrollOnRequest(orgId: string, winDeviceId: string, at: Date): Promise<void> {
    const { changed, thumbprint } = await this.repo.markUnenrolled(orgId, winDeviceId, at);
    // Already unenrolled (a resent alert, or the administrator's unenroll finished first).
    if (!changed) return;
    // Whether it leaves on its own or confirms an administrator's Unenroll (enrollment.md §10),
    // its certificate opens no more sessions, as after finishUnenroll.
    if (thumbprint) await this.certificates.unbind(thumbprint, winDeviceId);
    await this.events.emitAndWait('device.unenrolled', {
      organizationId: orgId,
      winDeviceId,
      reason: 'device-request',
      at,
    });
  }

  /**
   * An administrator's unenrollment completes: the PC confirmed (Status 200 for the Exec, or the
   * 1226 alert) or the timeout passed. Its certificate binding is removed; the queue was closed
   * when the unenrollment started and is closed again (idempotent). False if it was not
   * `unenrolling` any more.
   */
  async finishUnenroll(orgId: string, winDeviceId: string, at: Date): Promise<boolean> {
    const done = await this.repo.markUnenrolled(orgId, winDeviceId, at, [DeviceStatus.Unenrolling]);
    if (!done.changed) return false;
    if (done.thumbprint) await this.certificates.unbind(done.thumbprint, winDeviceId);
    await this.events.emitAndWait('device.unenrolled', {
      organizationId: orgId,
      winDeviceId,
      reason: 'administrator',
      at,
    });
    return true;
  }

  recordEvents(
    orgId: string,
    winDeviceId: string,
    events: Omit<DeviceEvent, 'id' | 'winDeviceId'>[],
  ): Promise<void> {
    return this.repo.recordEvents(orgId, winDeviceId, events);
  }
}

/** An administrator's unenrollment the PC did not confirm before its deadline. */
export function unenrollTimedOut(device: WinDevice, now: Date): boolean {
  return (
    device.status === DeviceStatus.Unenrolling &&
    !!device.unenrollDeadline &&
    new Date(device.unenrollDeadline).getTime() <= now.getTime()
  );
}
