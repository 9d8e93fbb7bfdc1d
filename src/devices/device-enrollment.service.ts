import { Injectable } from '@nestjs/common';
import { OrganizationsService } from '../organizations/organizations.service';
import {
  DeviceEnrollmentInfo,
  DeviceCertificateInfo,
  WinDevice,
  WinEnterprise,
} from './devices.types';
import { DeviceCertificatesRepository } from './device-certificates.repository';
import { MdmUsersRepository } from './mdm-users.repository';
import { CaSigningMaterial, EnterpriseCaService } from './enterprise-ca.service';
import { WinDevicesRepository } from './win-devices.repository';
import { WinEnterprisesRepository } from './win-enterprises.repository';

export type DomainLookup =
  /** With the SHA-256 of its enrollment secret (null while none is set): one round trip. */
  | { kind: 'found'; enterprise: WinEnterprise; secretHash: string | null }
  | { kind: 'none' }
  /** Two enterprises claim the domain (a race the domain check could not prevent): refuse. */
  | { kind: 'ambiguous' };

export interface EnrollDeviceInput {
  deviceId: string;
  name?: string;
  mdmUserId: string;
  certificate: Omit<DeviceCertificateInfo, 'source'>;
  /** Start of the certificate's renewal window (notAfter − RenewPeriod). */
  renewalDueAt: Date;
  enrollment: DeviceEnrollmentInfo;
}

export interface RenewDeviceInput {
  /** The certificate the request was authenticated with (current or renewed, not used yet). */
  presentedThumbprint: string;
  certificate: Omit<DeviceCertificateInfo, 'source'>;
  renewalDueAt: Date;
  at: Date;
}

/**
 * What the enrollment endpoints (no bearer token; the device is not known yet) need from the
 * devices module: find the enterprise a user belongs to, its secret and CA, and store the device.
 */
@Injectable()
export class DeviceEnrollmentService {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly enterprises: WinEnterprisesRepository,
    private readonly devices: WinDevicesRepository,
    private readonly cas: EnterpriseCaService,
    private readonly certificates: DeviceCertificatesRepository,
    private readonly users: MdmUsersRepository,
  ) {}

  /** The MDM user for this e-mail in the organization, created on first sight. */
  ensureUser(orgId: string, email: string): Promise<string> {
    return this.users.ensureUser(orgId, email);
  }

  /** The MDM user's id if there is one; creates nothing. */
  findUserId(orgId: string, email: string): Promise<string | null> {
    return this.users.findUserId(orgId, email);
  }

  findEnterpriseById(id: string): Promise<WinEnterprise | null> {
    return this.enterprises.findById(id);
  }

  async findEnterpriseByDomain(domain: string): Promise<DomainLookup> {
    const found = await this.enterprises.findByDomainWithSecret(domain.toLowerCase());
    if (found.length > 1) return { kind: 'ambiguous' };
    return found.length ? { kind: 'found', ...found[0] } : { kind: 'none' };
  }

  /** Enrollment into a suspended (or vanished) organization is refused. */
  async isOrganizationActive(orgId: string): Promise<boolean> {
    const org = await this.organizations.findById(orgId);
    return org?.status === 'active';
  }

  setEnrollmentSecretHash(
    enterprise: WinEnterprise,
    hash: string,
    at: Date,
  ): Promise<WinEnterprise | null> {
    return this.enterprises.setEnrollmentSecretHash(
      enterprise.organizationId,
      enterprise.id,
      hash,
      at,
    );
  }

  caSigningMaterial(enterprise: WinEnterprise): Promise<CaSigningMaterial> {
    return this.cas.signingMaterial(enterprise);
  }

  /** The enterprise's device with this Windows device id, if any (re-enrollment checks). */
  findEnrolledDevice(enterprise: WinEnterprise, deviceId: string): Promise<WinDevice | null> {
    return this.devices.findByDeviceId(enterprise.id, deviceId);
  }

  /**
   * Stores the enrolled device: its new certificate is bound to it first (a thumbprint opens
   * sessions for one device only), the one it replaces is released afterwards.
   */
  async enrollDevice(
    enterprise: WinEnterprise,
    input: EnrollDeviceInput,
    authorize: (existing: WinDevice | null) => Promise<void> = async () => undefined,
  ): Promise<{ device: WinDevice; created: boolean }> {
    const certificate: DeviceCertificateInfo = { ...input.certificate, source: 'enrollment' };
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.devices.findByDeviceId(enterprise.id, input.deviceId);
      await authorize(existing);
      const id = existing?.id ?? this.devices.newId();
      await this.certificates.bind(certificate.thumbprint, id, enterprise.organizationId);
      const result = await this.devices
        .upsertEnrolled(
          enterprise.organizationId,
          enterprise.id,
          { ...input, id, certificate },
          existing,
        )
        .catch(async (e: unknown) => {
          await this.certificates.unbind(certificate.thumbprint, id);
          throw e;
        });
      if (!result) {
        await this.certificates.unbind(certificate.thumbprint, id);
        continue; // changed concurrently: read it again
      }
      for (const old of [
        existing?.certificate?.thumbprint,
        existing?.renewal.certificate?.thumbprint,
      ]) {
        if (old && old !== certificate.thumbprint) await this.certificates.unbind(old, id);
      }
      return result;
    }
    throw new Error(`device ${input.deviceId} kept changing during enrollment`);
  }

  /** The enrolled (or unenrolled) device a certificate identifies, by thumbprint. */
  findByCertificate(thumbprint: string): Promise<WinDevice | null> {
    return this.devices.findByCertificate(thumbprint);
  }

  /**
   * Renewal (enrollment.md §9): the new certificate is bound and waits for the device's first
   * session with it; the presented one stays in use until then. A renewed certificate the device
   * never used (it renews again) is released, as is the current one when the device renewed with
   * its renewed one. Null when the device changed meanwhile (nothing stays bound).
   */
  async renewDevice(device: WinDevice, input: RenewDeviceInput): Promise<WinDevice | null> {
    const renewed: DeviceCertificateInfo = { ...input.certificate, source: 'enrollment' };
    const fromRenewed = device.renewal.certificate?.thumbprint === input.presentedThumbprint;
    const current = fromRenewed ? device.renewal.certificate : device.certificate;
    if (!current) return null;
    const dueAt = (fromRenewed ? device.renewal.nextDueAt : device.renewal.dueAt) ?? input.at;
    await this.certificates.bind(renewed.thumbprint, device.id, device.organizationId);
    const updated = await this.devices
      .setRenewed(device, current, renewed, {
        dueAt,
        nextDueAt: input.renewalDueAt,
        renewedAt: input.at,
      })
      .catch(async (e: unknown) => {
        await this.certificates.unbind(renewed.thumbprint, device.id);
        throw e;
      });
    if (!updated) {
      await this.certificates.unbind(renewed.thumbprint, device.id);
      return null;
    }
    const released = fromRenewed ? device.certificate : device.renewal.certificate;
    if (released && released.thumbprint !== current.thumbprint) {
      await this.certificates.unbind(released.thumbprint, device.id);
    }
    return updated;
  }
}
