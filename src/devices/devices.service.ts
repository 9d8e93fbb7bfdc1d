import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { DomainError, ErrorCode, assertFound } from '../common/errors';
import { Page, PageRequest, toPage } from '../common/pagination/pagination';
import { Organization } from '../organizations/organization';
import { OrganizationsService } from '../organizations/organizations.service';
import { certificateInfoFromPem } from './client-certificate';
import { DeviceStatus, WinDevice, WinEnterprise } from './devices.types';
import { CreateDeviceDto, UpdateDeviceDto } from './dto/device.dto';
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
    private readonly organizations: OrganizationsService,
    private readonly enterprises: WinEnterprisesRepository,
    private readonly devices: WinDevicesRepository,
  ) {}

  async createEnterprise(
    user: AuthUser,
    orgIdOrSlug: string,
    name?: string,
  ): Promise<WinEnterprise> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    try {
      return await this.enterprises.create(org.id, { name: name?.trim() || org.name });
    } catch (e) {
      if (e instanceof EnterpriseExistsError) {
        throw new DomainError(
          ErrorCode.Conflict,
          'The organization already has a Windows enterprise',
        );
      }
      throw e;
    }
  }

  async getEnterprise(user: AuthUser, orgIdOrSlug: string): Promise<WinEnterprise> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    return assertFound(await this.enterprises.findByOrganization(org.id));
  }

  private async enterpriseScope(user: AuthUser, orgIdOrSlug: string) {
    const organization = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const enterprise = assertFound(await this.enterprises.findByOrganization(organization.id));
    return { organization, enterprise };
  }

  async createDevice(
    user: AuthUser,
    orgIdOrSlug: string,
    dto: CreateDeviceDto,
  ): Promise<WinDevice> {
    const { organization, enterprise } = await this.enterpriseScope(user, orgIdOrSlug);
    try {
      return await this.devices.create(organization.id, enterprise.id, {
        deviceId: dto.deviceId,
        name: dto.name,
        mdmUserId: dto.mdmUserId,
        certificate: dto.certificate ? certificateInfoFromPem(dto.certificate) : undefined,
      });
    } catch (e) {
      if (e instanceof DuplicateDeviceError) {
        throw new DomainError(ErrorCode.Conflict, 'A device with this deviceId already exists', [
          { field: 'deviceId', message: `device ${dto.deviceId} is already registered` },
        ]);
      }
      throw e;
    }
  }

  async listDevices(
    user: AuthUser,
    orgIdOrSlug: string,
    page: PageRequest,
    status?: DeviceStatus,
  ): Promise<Page<WinDevice>> {
    const { organization, enterprise } = await this.enterpriseScope(user, orgIdOrSlug);
    const [docs, total] = await this.devices.list(organization.id, enterprise.id, page, status);
    return toPage(docs, total, page);
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
    const device = assertFound(await this.devices.findInOrganization(organization.id, winDeviceId));
    if (device.winEnterpriseId !== enterprise.id) throw new DomainError(ErrorCode.EntityNotFound);
    if (opts.requireActive && device.status !== DeviceStatus.Active) {
      throw new DomainError(ErrorCode.DeviceNotActive);
    }
    return { organization, enterprise, device };
  }

  async updateDevice(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    dto: UpdateDeviceDto,
  ): Promise<WinDevice> {
    const { organization, device } = await this.resolveDevice(user, orgIdOrSlug, winDeviceId);
    if (dto.status && device.status === DeviceStatus.Unenrolled) {
      throw new DomainError(
        ErrorCode.DeviceNotActive,
        'Win Device is unenrolled; enroll it again to reactivate it',
      );
    }
    const certificate = dto.certificate ? certificateInfoFromPem(dto.certificate) : undefined;
    const updated = await this.devices.update(
      organization.id,
      device.id,
      { status: dto.status, name: dto.name, certificate },
      // Unenrollment may have raced this request: never resurrect an unenrolled device.
      dto.status ? [DeviceStatus.Active, DeviceStatus.Inactive] : undefined,
    );
    return assertFound(updated);
  }
}
