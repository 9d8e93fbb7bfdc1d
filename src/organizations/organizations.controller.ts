import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ApiErrors, ApiOkEnvelope, notFoundError, conflictError } from '../common/http/swagger';
import {
  CreateOrganizationDto,
  OrganizationParamsDto,
  OrganizationResponseDto,
} from './dto/create-organization.dto';
import { Organization } from './organization';
import { OrganizationsService } from './organizations.service';

@ApiTags('Organizations')
@Controller('v1/organizations')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post()
  @HttpCode(200)
  @Authenticated(Permission.OrganizationCreate)
  @ApiOperation({ summary: 'Create an organization (a tenant)' })
  @ApiOkEnvelope(OrganizationResponseDto)
  @ApiErrors(
    5091,
    4015,
    conflictError('Slug already in use', 'Could not derive a free slug; pass one explicitly'),
  )
  create(@Body() dto: CreateOrganizationDto): Promise<Organization> {
    return this.organizations.create(dto);
  }

  @Get(':organizationId')
  @Authenticated(Permission.OrganizationGet)
  @ApiOperation({ summary: 'Read an organization by id or slug' })
  @ApiOkEnvelope(OrganizationResponseDto)
  @ApiErrors(5091, notFoundError('Organization'))
  get(@CurrentUser() user: AuthUser, @Param() p: OrganizationParamsDto): Promise<Organization> {
    return this.organizations.resolveForUser(user, p.organizationId);
  }
}
