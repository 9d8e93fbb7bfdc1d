import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PushService, WakeRequest } from '../push/push.service';
import { AuthUser } from '../auth/auth-user';
import {
  DEVICE_UNENROLLED_MESSAGE,
  DomainError,
  ErrorCode,
  assertFound,
  invalidData,
  notFound,
} from '../common/errors';
import { Page, PageRequest, toPage } from '../common/pagination/pagination';
import { Organization } from '../organizations/organization';
import { OrganizationsService } from '../organizations/organizations.service';
import { EventBus } from '../events/event-bus';
import { certificateInfoFromPem } from './client-certificate';
import type { DeviceEvent } from './device-event.schema';
import { MdmUsersRepository } from './mdm-users.repository';
import {
  CertificateInUseError,
  DeviceCertificatesRepository,
} from './device-certificates.repository';
import { DeviceCheckinService, unenrollTimedOut } from './device-checkin.service';
import { DeviceCheckinsRepository } from './device-checkins.repository';
import { mergePollSchedule, pollNodes, pollScheduleProblems } from './poll-schedule';
import {
  DEFAULT_POLL_SCHEDULE,
  DeviceStatus,
  DeviceLabelChange,
  DeviceLabelPolicy,
  PollSchedule,
  WinDevice,
  WinEnterprise,
} from './devices.types';
import {
  CreateDeviceDto,
  CreateEnterpriseDto,
  UpdateDeviceDto,
  UpdateEnterpriseDto,
} from './dto/device.dto';
import { EnterpriseCaService } from './enterprise-ca.service';
import { TargetCountsRepository } from './target-counts.repository';
import { DuplicateDeviceError, WinDevicesRepository } from './win-devices.repository';
import { EnterpriseExistsError, WinEnterprisesRepository } from './win-enterprises.repository';

export interface DeviceScope {
  organization: Organization;
  enterprise: WinEnterprise;
  device: WinDevice;
}

@Injectable()
export class DevicesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly checkins: DeviceCheckinService,
    private readonly push: PushService,
    private readonly organizations: OrganizationsService,
    private readonly enterprises: WinEnterprisesRepository,
    private readonly devices: WinDevicesRepository,
    private readonly cas: EnterpriseCaService,
    private readonly sessions: DeviceCheckinsRepository,
    private readonly events: EventBus,
    private readonly certificates: DeviceCertificatesRepository,
    private readonly users: MdmUsersRepository,
    private readonly targetCounts: TargetCountsRepository,
  ) {
    push.onChannelGone((id, uri) => this.devices.forgetChannel(id, uri));
  }

  /** Set by the profiles module, which checks and re-plans label changes (docs/decisions.md). */
  private labelPolicy: DeviceLabelPolicy | null = null;

  useLabelPolicy(policy: DeviceLabelPolicy): void {
    this.labelPolicy = policy;
  }

  /** Creates the enterprise, then its device CA (only the request that won the insert pays for it). */
  async createEnterprise(
    user: AuthUser,
    orgIdOrSlug: string,
    dto: CreateEnterpriseDto = {},
  ): Promise<WinEnterprise> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const domains = normalizeDomains(dto.domains);
    await this.assertDomainsFree(domains);
    let enterprise: WinEnterprise;
    try {
      enterprise = await this.enterprises.create(org.id, {
        name: dto.name?.trim() || org.name,
        domains,
      });
    } catch (e) {
      if (e instanceof EnterpriseExistsError) {
        throw new DomainError(
          ErrorCode.Conflict,
          'The organization already has a Windows enterprise',
        );
      }
      throw e;
    }
    await this.targetCounts.enterpriseCreated(enterprise.id, new Date());
    return this.cas.ensureCa(enterprise);
  }

  /** Enterprises created before enrollment existed get their CA here, on first read. */
  async getEnterprise(user: AuthUser, orgIdOrSlug: string): Promise<WinEnterprise> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    return this.cas.ensureCa(
      assertFound(await this.enterprises.findByOrganization(org.id), 'Enterprise'),
    );
  }

  async updateEnterprise(
    user: AuthUser,
    orgIdOrSlug: string,
    dto: UpdateEnterpriseDto,
  ): Promise<WinEnterprise> {
    const { organization, enterprise } = await this.enterpriseScope(user, orgIdOrSlug);
    const domains = dto.domains === undefined ? undefined : normalizeDomains(dto.domains);
    const pollSchedule = dto.pollSchedule
      ? mergePollSchedule(enterprise.pollSchedule, dto.pollSchedule)
      : undefined;
    if (pollSchedule) {
      const problems = pollScheduleProblems(pollSchedule);
      if (problems.length) throw invalidData(problems);
    }
    if (domains) await this.assertDomainsFree(domains, enterprise.id);
    const changed = !!pollSchedule && !samePollSchedule(pollSchedule, enterprise.pollSchedule);
    const updated = assertFound(
      await this.enterprises.update(organization.id, enterprise.id, {
        name: dto.name?.trim(),
        domains,
        pollSchedule,
        ...(changed && { pollSchedulePending: true as const }),
      }),
      'Enterprise',
    );
    const result = await this.cas.ensureCa(updated.enterprise);
    // Also when an earlier change failed part-way (the flag is still set): its devices may lack it.
    if (updated.pollSchedulePending) {
      const queued = updated.enterprise.pollSchedule ?? DEFAULT_POLL_SCHEDULE;
      // Queued to every managed device now; devices enrolling later get it in the
      // provisioning document.
      await this.events.emitAndWait('enterprise.poll-schedule.changed', {
        organizationId: organization.id,
        winEnterpriseId: enterprise.id,
        nodes: pollNodes(this.config.enrollment.providerId, queued),
        by: user.subject,
      });
      await this.enterprises.clearPollSchedulePending(organization.id, enterprise.id, queued);
    }
    return result;
  }

  /** The enterprise's active and inactive devices, `limit` at a time after `afterId`. */
  managedDevices(orgId: string, winEnterpriseId: string, afterId: string | null, limit: number) {
    return this.devices.managedDeviceIds(orgId, winEnterpriseId, afterId, limit);
  }

  /** Asks WNS to wake the device now (fire-and-forget); the outcome of the request only. */
  async wake(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
  ): Promise<{ push: WakeRequest }> {
    const { device } = await this.resolveDevice(user, orgIdOrSlug, winDeviceId);
    if (device.status === DeviceStatus.Unenrolled) {
      throw new DomainError(ErrorCode.DeviceNotActive, DEVICE_UNENROLLED_MESSAGE);
    }
    return { push: this.push.wake(device) };
  }

  /**
   * A domain routes enrollment usernames to one enterprise. Checked before writing (see the
   * schema for why there is no unique index); enrollment refuses a domain two enterprises claim.
   */
  private async assertDomainsFree(domains: string[], exceptId?: string): Promise<void> {
    const clashes = await this.enterprises.findByDomains(domains, exceptId);
    if (!clashes.length) return;
    const taken = domains.filter((d) => clashes.some((e) => e.domains.includes(d)));
    throw new DomainError(
      ErrorCode.Conflict,
      'A domain is already used by another Windows enterprise',
      taken.map((d) => ({ field: 'domains', message: `${d} belongs to another enterprise` })),
    );
  }

  private async enterpriseScope(user: AuthUser, orgIdOrSlug: string) {
    const organization = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const enterprise = assertFound(
      await this.enterprises.findByOrganization(organization.id),
      'Enterprise',
    );
    return { organization, enterprise };
  }

  async createDevice(
    user: AuthUser,
    orgIdOrSlug: string,
    dto: CreateDeviceDto,
  ): Promise<WinDevice> {
    const { organization, enterprise } = await this.enterpriseScope(user, orgIdOrSlug);
    if (dto.mdmUserId && !(await this.users.exists(organization.id, dto.mdmUserId))) {
      throw invalidData([
        { field: 'mdmUserId', message: 'no MDM user with this id in the organization' },
      ]);
    }
    const certificate = dto.certificate ? certificateInfoFromPem(dto.certificate) : undefined;
    const id = this.devices.newId();
    if (certificate) await this.bindCertificate(certificate.thumbprint, id, organization.id);
    try {
      return await this.devices.create(organization.id, enterprise.id, {
        id,
        deviceId: dto.deviceId,
        name: dto.name,
        mdmUserId: dto.mdmUserId,
        certificate,
      });
    } catch (e) {
      if (certificate) await this.certificates.unbind(certificate.thumbprint, id);
      if (e instanceof DuplicateDeviceError) {
        throw new DomainError(ErrorCode.Conflict, 'A device with this deviceId already exists', [
          { field: 'deviceId', message: `device ${dto.deviceId} is already registered` },
        ]);
      }
      throw e;
    }
  }

  /** A certificate identifies one device: another device's certificate is refused (409). */
  private async bindCertificate(
    thumbprint: string,
    winDeviceId: string,
    orgId: string,
  ): Promise<void> {
    try {
      await this.certificates.bind(thumbprint, winDeviceId, orgId);
    } catch (e) {
      if (!(e instanceof CertificateInUseError)) throw e;
      throw new DomainError(ErrorCode.Conflict, 'Certificate already in use', [
        { field: 'certificate', message: 'this certificate already identifies another device' },
      ]);
    }
  }

  async listDevices(
    user: AuthUser,
    orgIdOrSlug: string,
    page: PageRequest,
    status?: DeviceStatus,
  ): Promise<Page<WinDevice>> {
    const { organization, enterprise } = await this.enterpriseScope(user, orgIdOrSlug);
    const listed = await this.devices.list(organization.id, enterprise.id, page, status);
    const docs = await Promise.all(listed.docs.map((d) => this.settleUnenrolling(d)));
    // A device that just became unenrolled no longer matches a status=unenrolling filter.
    return { ...listed, docs: status ? docs.filter((d) => d.status === status) : docs };
  }

  /**
   * An administrator's unenrollment whose deadline passed is completed when the device is read
   * (lazily: no background sweep; the PC's own next check-in does the same).
   */
  private async settleUnenrolling(device: WinDevice, now = new Date()): Promise<WinDevice> {
    if (!unenrollTimedOut(device, now)) return device;
    await this.checkins.finishUnenroll(device.organizationId, device.id, now);
    return (await this.devices.findInOrganization(device.organizationId, device.id)) ?? device;
  }

  /**
   * The one lookup that turns "missing, or in another tenant" into 404 3001 and, when
   * `requireActive`, "exists but not active" into 400 5142.
   */
  async resolveDevice(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    opts: { requireActive?: boolean } = {},
  ): Promise<DeviceScope> {
    const { organization, enterprise } = await this.enterpriseScope(user, orgIdOrSlug);
    const device = await this.settleUnenrolling(
      assertFound(await this.devices.findInOrganization(organization.id, winDeviceId), 'Device'),
    );
    if (device.winEnterpriseId !== enterprise.id) throw notFound('Device');
    if (opts.requireActive && device.status === DeviceStatus.Unenrolled) {
      throw new DomainError(ErrorCode.DeviceNotActive, DEVICE_UNENROLLED_MESSAGE);
    }
    if (opts.requireActive && device.status !== DeviceStatus.Active) {
      throw new DomainError(ErrorCode.DeviceNotActive);
    }
    return { organization, enterprise, device };
  }

  /**
   * resolveDevice with `requireActive`, then `write` inside the device's queue marker bracket
   * (DeviceCheckinService.appendToQueue): the organization read, then one update that finds the
   * active device and opens the bracket. The device document names its enterprise, and an
   * organization's enterprise is never replaced, so the enterprise is not read. When no active
   * device matches, resolveDevice names the reason with the same errors as everywhere else.
   */
  async appendToDeviceQueue<T>(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    write: (scope: { organization: Organization; device: WinDevice }) => Promise<T>,
  ): Promise<T> {
    const organization = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const fast = await this.checkins.appendToActiveQueue(organization.id, winDeviceId, (device) =>
      write({ organization, device }),
    );
    if (fast) return fast.result;
    // Throws 404 3001 (enterprise, device) or 400 5142; a device activated meanwhile goes on.
    const { device } = await this.resolveDevice(user, orgIdOrSlug, winDeviceId, {
      requireActive: true,
    });
    return this.checkins.appendToQueue(device.id, () => write({ organization, device }));
  }

  async updateDevice(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    dto: UpdateDeviceDto,
  ): Promise<WinDevice> {
    const { organization, device } = await this.resolveDevice(user, orgIdOrSlug, winDeviceId);
    const labels = dto.labels ? [...new Set(dto.labels)] : undefined;
    const labelChange = labels && labelChangeOf(device, labels);
    if (dto.status && device.status === DeviceStatus.Unenrolled) {
      throw new DomainError(
        ErrorCode.DeviceNotActive,
        'Win Device is unenrolled; enroll it again to reactivate it',
      );
    }
    const certificate = dto.certificate ? certificateInfoFromPem(dto.certificate) : undefined;
    const previous = device.certificate?.thumbprint;
    const rebind = certificate && certificate.thumbprint !== previous;
    if (labelChange) await this.labelPolicy?.check(labelChange);
    if (rebind) await this.bindCertificate(certificate.thumbprint, device.id, organization.id);
    const updated = await this.devices
      .update(
        organization.id,
        device.id,
        { status: dto.status, name: dto.name, certificate, labels },
        // Unenrollment may have raced this request: never resurrect an unenrolled device.
        dto.status ? [DeviceStatus.Active, DeviceStatus.Inactive] : undefined,
      )
      .catch(async (e: unknown) => {
        if (rebind) await this.certificates.unbind(certificate.thumbprint, device.id);
        throw e;
      });
    if (rebind) {
      if (updated && previous) await this.certificates.unbind(previous, device.id);
      if (!updated) await this.certificates.unbind(certificate.thumbprint, device.id);
    }
    if (updated && labelChange) await this.labelPolicy?.applied(labelChange);
    return assertFound(updated, 'Device');
  }

  /** The alerts the device raised (1224 client events, 1226 generic alerts), newest first. */
  async listEvents(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    page: PageRequest,
  ): Promise<Page<DeviceEvent>> {
    const { organization, device } = await this.resolveDevice(user, orgIdOrSlug, winDeviceId);
    const [docs, total] = await this.sessions.listEvents(
      organization.id,
      device.id,
      (page.page - 1) * page.limit,
      page.limit,
      page.sort.direction,
    );
    return toPage(docs, total, page);
  }

  /**
   * Administrator unenrollment. A device with a certificate becomes `unenrolling`: its next
   * session is answered with the DMClient Unenroll Exec, and it becomes `unenrolled` (binding of
   * its certificate removed) when the PC confirms or UNENROLL_TIMEOUT_SECONDS pass. A device
   * without a certificate has nothing to tell: it is unenrolled at once. Either way its pending
   * commands are cancelled now. Idempotent. Re-enrollment brings it back with a new certificate.
   */
  async unenrollDevice(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    now = new Date(),
  ): Promise<WinDevice> {
    const { organization, device } = await this.resolveDevice(user, orgIdOrSlug, winDeviceId);
    if (device.status === DeviceStatus.Unenrolling) return device;
    const told =
      device.certificate &&
      device.status !== DeviceStatus.Unenrolled &&
      (await this.devices.markUnenrolling(
        organization.id,
        device.id,
        now,
        new Date(now.getTime() + this.config.unenroll.timeoutMs),
      ));
    if (!told) await this.sessions.markUnenrolled(organization.id, device.id, now);
    // Every call closes the queue (idempotent): a retry after a failure between the two steps
    // still cancels what the first attempt left Pending.
    const event = { organizationId: organization.id, winDeviceId: device.id, at: now };
    if (told) {
      await this.events.emitAndWait('device.unenroll-requested', {
        ...event,
        reason: 'administrator',
      });
    } else {
      await this.events.emitAndWait('device.unenrolled', { ...event, reason: 'administrator' });
    }
    const after = assertFound(
      await this.devices.findInOrganization(organization.id, device.id),
      'Device',
    );
    // The PC hears of it at once if it can be woken, else at its next poll.
    if (after.status === DeviceStatus.Unenrolling) this.push.wake(after);
    return after;
  }
}

function samePollSchedule(a: PollSchedule, b: PollSchedule | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b && mergePollSchedule(b, {}));
}

/** Lower case, no trailing dot, no duplicates, in the order given. */
export function normalizeDomains(domains: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const d of domains ?? []) {
    const n = d.trim().toLowerCase().replace(/\.$/, '');
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}

/** The change a PATCH of `labels` makes, or undefined when it changes nothing. */
function labelChangeOf(device: WinDevice, labels: string[]): DeviceLabelChange | undefined {
  const before = new Set(device.labels);
  const changedLabels = [
    ...labels.filter((l) => !before.has(l)),
    ...device.labels.filter((l) => !labels.includes(l)),
  ];
  if (!changedLabels.length) return undefined;
  return {
    organizationId: device.organizationId,
    winEnterpriseId: device.winEnterpriseId,
    devices: [{ id: device.id, labels }],
    changedLabels,
  };
}
