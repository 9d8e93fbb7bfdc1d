import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { invalidData } from '../common/errors';
import { ApiErrors, ApiOkEnvelope, notFoundError } from '../common/http/swagger';
import { Page, toPageRequest } from '../common/pagination/pagination';
import { OrganizationParamsDto } from '../organizations/dto/create-organization.dto';
import { AuditService } from './audit.service';
import { AuditRecord } from './audit.types';
import { AuditRecordPageDto, ListAuditQueryDto } from './dto/audit.dto';

@ApiTags('Audit trail')
@Controller('v1/organizations/:organizationId/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @Authenticated(Permission.AuditList)
  @ApiOperation({
    summary:
      "The organization's administrative writes, newest first (paginated; filter by actor, targetId, from, to)",
  })
  @ApiOkEnvelope(AuditRecordPageDto)
  @ApiErrors(5091, notFoundError('Organization'))
  list(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Query() q: ListAuditQueryDto,
  ): Promise<Page<AuditRecord>> {
    const page = toPageRequest(q, ['at'], 'at:desc');
    const from = q.from === undefined ? undefined : new Date(q.from);
    const to = q.to === undefined ? undefined : new Date(q.to);
    if (from && to && from > to) {
      throw invalidData([{ field: 'from', message: 'from must not be after to' }]);
    }
    return this.audit.list(
      user,
      p.organizationId,
      { actor: q.actor, targetId: q.targetId, from, to },
      page,
    );
  }
}
