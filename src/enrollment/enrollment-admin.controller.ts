import { Body, Controller, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser, RequirePermissions } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ApiErrors, ApiOkEnvelope } from '../common/http/swagger';
import { OrganizationParamsDto } from '../organizations/dto/create-organization.dto';
import {
  CreateEnrollmentTokensDto,
  EnrollmentSecretDto,
  EnrollmentTokenDto,
} from './dto/enrollment-admin.dto';
import { EnrollmentAdminService, IssuedInvitation } from './enrollment-admin.service';

@ApiTags('Windows enrollment')
@ApiBearerAuth()
@Controller('v1/organizations/:organizationId/mdm/windows/enterprise')
export class EnrollmentAdminController {
  constructor(private readonly admin: EnrollmentAdminService) {}

  @Post('enrollment-secret')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @RequirePermissions(Permission.EnterpriseUpdate)
  @ApiOperation({
    summary: 'Set a new enrollment secret (returned once; the previous one stops working at once)',
  })
  @ApiOkEnvelope(EnrollmentSecretDto)
  @ApiErrors(5091, 4002, 4004, 4003, 3001)
  rotateSecret(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
  ): Promise<{ secret: string; rotatedAt: Date }> {
    return this.admin.rotateSecret(user, p.organizationId);
  }

  @Post('enrollment-tokens')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @RequirePermissions(Permission.EnrollmentCreate)
  @ApiOperation({
    summary: 'Invite users: one single-use, expiring enrollment token and deep link per e-mail',
  })
  @ApiOkEnvelope(EnrollmentTokenDto, { isArray: true })
  @ApiErrors(5091, 4002, 4004, 4003, 3001)
  invite(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Body() dto: CreateEnrollmentTokensDto,
  ): Promise<IssuedInvitation[]> {
    return this.admin.invite(user, p.organizationId, dto);
  }
}
