import { Injectable } from '@nestjs/common';
import { OrganizationsService } from '../organizations/organizations.service';
import {
  DeviceEnrollmentInfo,
  DeviceCertificateInfo,
  WinDevice,
  WinEnterprise,
} from './devices.types';
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
  enrollment: DeviceEnrollmentInfo;
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
  ) {}

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

  enrollDevice(
    enterprise: WinEnterprise,
    input: EnrollDeviceInput,
  ): Promise<{ device: WinDevice; created: boolean }> {
    return this.devices.upsertEnrolled(enterprise.organizationId, enterprise.id, {
      ...input,
      certificate: { ...input.certificate, source: 'enrollment' },
    });
  }
}
