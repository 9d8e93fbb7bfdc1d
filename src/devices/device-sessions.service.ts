import { Injectable } from '@nestjs/common';
import { AcquireResult, CheckinPatch } from './device-session.types';
import { DeviceEvent } from './device-event.schema';
import { DeviceSessionsRepository } from './device-sessions.repository';
import { EnterpriseCaService } from './enterprise-ca.service';

/** What the device-facing endpoint needs from the devices module. */
@Injectable()
export class DeviceSessionsService {
  constructor(
    private readonly repo: DeviceSessionsRepository,
    private readonly cas: EnterpriseCaService,
  ) {}

  /** The enterprise CA certificate that enrolled devices' certificates must chain to (cached). */
  enterpriseCaPem(winEnterpriseId: string): Promise<string | null> {
    return this.cas.caCertificatePem(winEnterpriseId);
  }

  acquire(thumbprint: string, now: Date, lockMs: number): Promise<AcquireResult> {
    return this.repo.acquire(thumbprint, now, lockMs);
  }

  release(deviceId: string, lockToken: string, patch?: CheckinPatch): Promise<boolean> {
    return this.repo.release(deviceId, lockToken, patch);
  }

  bumpQueue(deviceId: string): Promise<void> {
    return this.repo.bumpQueue(deviceId);
  }

  markUnenrolled(orgId: string, deviceId: string, at: Date): Promise<boolean> {
    return this.repo.markUnenrolled(orgId, deviceId, at);
  }

  listEvents(orgId: string, deviceId: string, skip: number, limit: number, direction: 1 | -1) {
    return this.repo.listEvents(orgId, deviceId, skip, limit, direction);
  }

  recordEvents(
    orgId: string,
    deviceId: string,
    events: Omit<DeviceEvent, 'id' | 'winDeviceId'>[],
  ): Promise<void> {
    return this.repo.recordEvents(orgId, deviceId, events);
  }
}
