import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ApiErrors, ApiOkEnvelope, notFoundError, conflictError } from '../common/http/swagger';
import { Page, PageQueryDto, toPageRequest } from '../common/pagination/pagination';
import { OrganizationParamsDto } from '../organizations/dto/create-organization.dto';
import { DevicesService } from './devices.service';
import { WinDevice, WinEnterprise } from './devices.types';
import {
  CreateDeviceDto,
  CreateEnterpriseDto,
  DevicePageDto,
  DeviceEventPageDto,
  DeviceParamsDto,
  DeviceResponseDto,
  EnterpriseResponseDto,
  ListDevicesQueryDto,
  UpdateDeviceDto,
  UpdateEnterpriseDto,
} from './dto/device.dto';

const ENTERPRISE = 'v1/organizations/:organizationId/mdm/windows/enterprise';

@ApiTags('Windows enterprise')
@Controller(ENTERPRISE)
export class EnterpriseController {
  constructor(private readonly devices: DevicesService) {}

  @Post()
  @HttpCode(200)
  @Authenticated(Permission.EnterpriseCreate)
  @ApiOperation({ summary: "Create the organization's Windows enterprise (one per organization)" })
  @ApiOkEnvelope(EnterpriseResponseDto)
  @ApiErrors(
    5091,
    4015,
    notFoundError('Organization'),
    conflictError(
      'The organization already has a Windows enterprise',
      'A domain is already used by another Windows enterprise',
    ),
  )
  create(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Body() dto: CreateEnterpriseDto,
  ): Promise<WinEnterprise> {
    return this.devices.createEnterprise(user, p.organizationId, dto);
  }

  @Get()
  @Authenticated(Permission.EnterpriseGet)
  @ApiOperation({ summary: "Read the organization's Windows enterprise" })
  @ApiOkEnvelope(EnterpriseResponseDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise'))
  get(@CurrentUser() user: AuthUser, @Param() p: OrganizationParamsDto): Promise<WinEnterprise> {
    return this.devices.getEnterprise(user, p.organizationId);
  }

  @Patch()
  @Authenticated(Permission.EnterpriseUpdate)
  @ApiOperation({ summary: 'Rename the Windows enterprise or set its enrollment e-mail domains' })
  @ApiOkEnvelope(EnterpriseResponseDto)
  @ApiErrors(
    5091,
    4015,
    notFoundError('Organization', 'Enterprise'),
    conflictError('A domain is already used by another Windows enterprise'),
  )
  update(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Body() dto: UpdateEnterpriseDto,
  ): Promise<WinEnterprise> {
    return this.devices.updateEnterprise(user, p.organizationId, dto);
  }
}

@ApiTags('Windows devices')
@Controller(`${ENTERPRISE}/devices`)
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Post()
  @HttpCode(200)
  @Authenticated(Permission.DeviceCreate)
  @ApiOperation({ summary: 'Register a Windows device (status active)' })
  @ApiOkEnvelope(DeviceResponseDto)
  @ApiErrors(
    5091,
    4015,
    notFoundError('Organization', 'Enterprise'),
    conflictError('A device with this deviceId already exists', 'Certificate already in use'),
  )
  create(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Body() dto: CreateDeviceDto,
  ): Promise<WinDevice> {
    return this.devices.createDevice(user, p.organizationId, dto);
  }

  @Get()
  @Authenticated(Permission.DeviceList)
  @ApiOperation({
    summary:
      "List the enterprise's devices (paginated; sort by createdAt, deviceId, name, lastSeenAt)",
  })
  @ApiOkEnvelope(DevicePageDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise'))
  list(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Query() q: ListDevicesQueryDto,
  ): Promise<Page<WinDevice>> {
    const page = toPageRequest(
      q,
      ['createdAt', 'deviceId', 'name', 'lastSeenAt', 'updatedAt'],
      'createdAt:desc',
    );
    return this.devices.listDevices(user, p.organizationId, page, q.status);
  }

  @Get(':winDeviceId')
  @Authenticated(Permission.DeviceGet)
  @ApiOperation({ summary: 'Read one device by 24-hex id or Windows device id' })
  @ApiOkEnvelope(DeviceResponseDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Device'))
  async get(@CurrentUser() user: AuthUser, @Param() p: DeviceParamsDto): Promise<WinDevice> {
    return (await this.devices.resolveDevice(user, p.organizationId, p.winDeviceId)).device;
  }

  @Get(':winDeviceId/events')
  @Authenticated(Permission.DeviceGet)
  @ApiOperation({
    summary: 'Alerts the device raised (1224 client events, 1226 generic alerts), newest first',
  })
  @ApiOkEnvelope(DeviceEventPageDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Device'))
  events(@CurrentUser() user: AuthUser, @Param() p: DeviceParamsDto, @Query() q: PageQueryDto) {
    const page = toPageRequest(q, ['receivedAt'], 'receivedAt:desc');
    return this.devices.listEvents(user, p.organizationId, p.winDeviceId, page);
  }

  @Patch(':winDeviceId')
  @Authenticated(Permission.DeviceUpdate)
  @ApiOperation({
    summary: 'Activate or deactivate a device, rename it, or replace its certificate',
  })
  @ApiOkEnvelope(DeviceResponseDto)
  @ApiErrors(
    5091,
    { code: 5142, messages: ['Win Device is unenrolled; enroll it again to reactivate it'] },
    4015,
    notFoundError('Organization', 'Enterprise', 'Device'),
    conflictError('Certificate already in use'),
  )
  update(
    @CurrentUser() user: AuthUser,
    @Param() p: DeviceParamsDto,
    @Body() dto: UpdateDeviceDto,
  ): Promise<WinDevice> {
    return this.devices.updateDevice(user, p.organizationId, p.winDeviceId, dto);
  }

  @Post(':winDeviceId/unenroll')
  @HttpCode(200)
  @Authenticated(Permission.DeviceUpdate)
  @ApiOperation({
    summary:
      'Unenroll a device: its pending commands are cancelled and its next session tells the PC to ' +
      'unenroll (DMClient Unenroll); it shows `unenrolling` until the PC confirms or ' +
      'UNENROLL_TIMEOUT_SECONDS pass, then `unenrolled` (its certificate no longer opens a session). ' +
      'A device without a certificate is unenrolled at once',
  })
  @ApiOkEnvelope(DeviceResponseDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Device'))
  unenroll(@CurrentUser() user: AuthUser, @Param() p: DeviceParamsDto): Promise<WinDevice> {
    return this.devices.unenrollDevice(user, p.organizationId, p.winDeviceId);
  }
}
