import { Body, Controller, Header, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ApiErrors, ApiOkEnvelope, notFoundError } from '../common/http/swagger';
import { OrganizationParamsDto } from '../organizations/dto/create-organization.dto';
import {
  CreateEnrollmentTokensDto,
  EnrollmentSecretDto,
  EnrollmentTokenDto,
} from './dto/enrollment-admin.dto';
import { EnrollmentAdminService, IssuedInvitation } from './enrollment-admin.service';

@ApiTags('Windows enrollment')
@Controller('v1/organizations/:organizationId/mdm/windows/enterprise')
export class EnrollmentAdminController {
  constructor(private readonly admin: EnrollmentAdminService) {}

  @Post('enrollment-secret')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Authenticated(Permission.EnterpriseUpdate)
  @ApiOperation({
    summary: 'Set a new enrollment secret (returned once; the previous one stops working at once)',
  })
  @ApiOkEnvelope(EnrollmentSecretDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise'))
  rotateSecret(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
  ): Promise<{ secret: string; rotatedAt: Date }> {
    return this.admin.rotateSecret(user, p.organizationId);
  }

  @Post('enrollment-tokens')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Authenticated(Permission.EnrollmentCreate)
  @ApiOperation({
    summary: 'Invite users: one single-use, expiring enrollment token and deep link per e-mail',
  })
  @ApiOkEnvelope(EnrollmentTokenDto, { isArray: true })
  @ApiErrors(5091, 4015, notFoundError('Organization', 'Enterprise'))
  invite(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Body() dto: CreateEnrollmentTokensDto,
  ): Promise<IssuedInvitation[]> {
    return this.admin.invite(user, p.organizationId, dto);
  }
}
