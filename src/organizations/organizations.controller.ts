import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { CurrentUser, RequirePermissions } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ApiErrors, ApiOkEnvelope } from '../common/http/swagger';
import {
  CreateOrganizationDto,
  OrganizationParamsDto,
  OrganizationResponseDto,
} from './dto/create-organization.dto';
import { Organization } from './organization';
import { OrganizationsService } from './organizations.service';

@ApiTags('Organizations')
@ApiBearerAuth()
@Controller('v1/organizations')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post()
  @HttpCode(200)
  @RequirePermissions(Permission.OrganizationCreate)
  @ApiOperation({ summary: 'Create an organization (a tenant)' })
  @ApiOkEnvelope(OrganizationResponseDto)
  @ApiErrors(5091, 4002, 4004, 4003, 4009)
  create(@Body() dto: CreateOrganizationDto): Promise<Organization> {
    return this.organizations.create(dto);
  }

  @Get(':organizationId')
  @RequirePermissions(Permission.OrganizationGet)
  @ApiOperation({ summary: 'Read an organization by id or slug' })
  @ApiOkEnvelope(OrganizationResponseDto)
  @ApiErrors(5091, 4002, 4004, 4003, 3001)
  get(@CurrentUser() user: AuthUser, @Param() p: OrganizationParamsDto): Promise<Organization> {
    return this.organizations.resolveForUser(user, p.organizationId);
  }
}
