import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ApiErrors, ApiOkEnvelope, notFoundError } from '../common/http/swagger';
import { toPageRequest } from '../common/pagination/pagination';
import { DeviceParamsDto } from '../devices/dto/device.dto';
import { ProfileParamsDto } from './dto/profile.dto';
import {
  DeviceProfileDto,
  ProfileStatusDto,
  ProfileStatusQueryDto,
} from './dto/profile-status.dto';
import { presentDeviceProfile, presentProfileStatus } from './profile-status.presenter';
import { ProfileStatusService } from './profile-status.service';

const ENTERPRISE = 'v1/organizations/:organizationId/mdm/windows/enterprise';

@ApiTags('Windows profiles')
@Controller(ENTERPRISE)
export class ProfileStatusController {
  constructor(private readonly status: ProfileStatusService) {}

  @Get('profiles/:profileId/status')
  @Authenticated(Permission.ProfileGet)
  @ApiOperation({
    summary:
      "A profile's outcome: devices per state, and its devices (paginated, by winDeviceId) with their state and failing setting",
  })
  @ApiOkEnvelope(ProfileStatusDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Profile'))
  async profileStatus(
    @CurrentUser() user: AuthUser,
    @Param() p: ProfileParamsDto,
    @Query() q: ProfileStatusQueryDto,
  ) {
    const page = toPageRequest(q, ['winDeviceId'], 'winDeviceId:asc');
    return presentProfileStatus(
      await this.status.profileStatus(user, p.organizationId, p.profileId, page, q.state),
    );
  }

  @Get('devices/:winDeviceId/profiles')
  @Authenticated(Permission.DeviceGet)
  @ApiOperation({
    summary: 'Each profile reaching the device, with its state per setting',
  })
  @ApiOkEnvelope(DeviceProfileDto, { isArray: true })
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Device'))
  async deviceProfiles(@CurrentUser() user: AuthUser, @Param() p: DeviceParamsDto) {
    return (await this.status.deviceProfiles(user, p.organizationId, p.winDeviceId)).map(
      presentDeviceProfile,
    );
  }
}
