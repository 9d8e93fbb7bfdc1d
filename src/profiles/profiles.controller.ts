import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ErrorCode } from '../common/errors';
import { ApiErrors, ApiOkEnvelope, conflictError, notFoundError } from '../common/http/swagger';
import { Page, PageQueryDto, toPageRequest } from '../common/pagination/pagination';
import { OrganizationParamsDto } from '../organizations/dto/create-organization.dto';
import {
  CreateProfileDto,
  LabelDevicesDto,
  LabelDevicesResultDto,
  LabelParamsDto,
  ProfilePageDto,
  ProfileParamsDto,
  ProfileResponseDto,
  ProfileWriteResponseDto,
  UpdateProfileDto,
} from './dto/profile.dto';
import { LabelDevicesResult, ProfileLabelsService } from './profile-labels.service';
import { WinProfile } from './profiles.types';
import {
  PROFILE_CHANGED_CONCURRENTLY,
  PROFILE_NAME_TAKEN,
  ProfilesService,
} from './profiles.service';

const ENTERPRISE = 'v1/organizations/:organizationId/mdm/windows/enterprise';
const CONFLICT = {
  code: ErrorCode.ProfileConflict,
  messages: ['Profiles "A" and "B" would set <path> to different values on the same device'],
};

class ProfileDeletedDto {
  @ApiProperty({ example: true }) deleted!: boolean;
  @ApiProperty({
    description:
      'Devices the profile is being retired from: the devices its targets reach, an estimate ' +
      '(devices whose earlier plan had not finished may not have it yet)',
    example: 12,
  })
  devicesToPlan!: number;
  @ApiProperty({
    description: 'Always false for a deletion: devicesToPlan is an estimate',
    example: false,
  })
  devicesToPlanExact!: boolean;
}

/** The API view: a deleted profile is never shown, so `deletedAt` is not either. */
function view<T extends WinProfile>(p: T): Omit<T, 'deletedAt'> {
  const { deletedAt: _deletedAt, ...rest } = p;
  return rest;
}

@ApiTags('Windows profiles')
@Controller(`${ENTERPRISE}/profiles`)
export class ProfilesController {
  constructor(private readonly profiles: ProfilesService) {}

  @Post()
  @HttpCode(200)
  @Authenticated(Permission.ProfileCreate)
  @ApiOperation({
    summary:
      'Create a configuration profile; answers at once with the count of devices to plan (planning runs in the background)',
  })
  @ApiOkEnvelope(ProfileWriteResponseDto)
  @ApiErrors(
    5091,
    4015,
    notFoundError('Organization', 'Enterprise'),
    conflictError(PROFILE_NAME_TAKEN),
    CONFLICT,
  )
  async create(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Body() dto: CreateProfileDto,
  ) {
    return view(await this.profiles.create(user, p.organizationId, dto));
  }

  @Get()
  @Authenticated(Permission.ProfileList)
  @ApiOperation({
    summary: "The enterprise's profiles (paginated; sort by createdAt, updatedAt, name)",
  })
  @ApiOkEnvelope(ProfilePageDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise'))
  async list(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Query() q: PageQueryDto,
  ): Promise<Page<Omit<WinProfile, 'deletedAt'>>> {
    const page = toPageRequest(q, ['createdAt', 'updatedAt', 'name'], 'createdAt:desc');
    const listed = await this.profiles.list(user, p.organizationId, page);
    return { ...listed, docs: listed.docs.map(view) };
  }

  @Get(':profileId')
  @Authenticated(Permission.ProfileGet)
  @ApiOperation({ summary: 'Read one profile' })
  @ApiOkEnvelope(ProfileResponseDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Profile'))
  async get(@CurrentUser() user: AuthUser, @Param() p: ProfileParamsDto) {
    return view(await this.profiles.get(user, p.organizationId, p.profileId));
  }

  @Patch(':profileId')
  @Authenticated(Permission.ProfileUpdate)
  @ApiOperation({
    summary:
      'Change a profile (a new revision): devices get changed settings again; changed targets are re-planned',
  })
  @ApiOkEnvelope(ProfileWriteResponseDto)
  @ApiErrors(
    5091,
    4015,
    notFoundError('Organization', 'Enterprise', 'Profile'),
    conflictError(PROFILE_NAME_TAKEN, PROFILE_CHANGED_CONCURRENTLY),
    CONFLICT,
  )
  async update(
    @CurrentUser() user: AuthUser,
    @Param() p: ProfileParamsDto,
    @Body() dto: UpdateProfileDto,
  ) {
    return view(await this.profiles.update(user, p.organizationId, p.profileId, dto));
  }

  @Delete(':profileId')
  @Authenticated(Permission.ProfileDelete)
  @ApiOperation({
    summary:
      'Delete a profile: it stops applying to every device (onRemove delete: its settings are deleted there)',
  })
  @ApiOkEnvelope(ProfileDeletedDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Profile'))
  delete(@CurrentUser() user: AuthUser, @Param() p: ProfileParamsDto) {
    return this.profiles.delete(user, p.organizationId, p.profileId);
  }
}

@ApiTags('Windows devices')
@Controller(`${ENTERPRISE}/labels`)
export class LabelsController {
  constructor(private readonly labels: ProfileLabelsService) {}

  @Post(':label/devices')
  @HttpCode(200)
  @Authenticated(Permission.DeviceUpdate)
  @ApiOperation({
    summary:
      'Add the label to devices and remove it from others (up to 10,000 ids each); the profiles targeting it are re-planned for those devices',
  })
  @ApiOkEnvelope(LabelDevicesResultDto)
  @ApiErrors(5091, 4015, notFoundError('Organization', 'Enterprise'), CONFLICT)
  devices(
    @CurrentUser() user: AuthUser,
    @Param() p: LabelParamsDto,
    @Body() dto: LabelDevicesDto,
  ): Promise<LabelDevicesResult> {
    return this.labels.bulk(user, p.organizationId, p.label, dto);
  }
}
