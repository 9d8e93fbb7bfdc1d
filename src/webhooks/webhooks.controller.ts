import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { ErrorCode } from '../common/errors';
import { ApiErrors, ApiOkEnvelope, conflictError } from '../common/http/swagger';
import { PageOf, PageQueryDto, toPageRequest } from '../common/pagination/pagination';
import { OrganizationParamsDto } from '../organizations/dto/create-organization.dto';
import {
  CreateWebhookDto,
  DeliveryParamsDto,
  RotateSecretDto,
  UpdateWebhookDto,
  WebhookDeletedDto,
  WebhookDeliveryDto,
  WebhookParamsDto,
  WebhookResponseDto,
  WebhookWithSecretDto,
} from './dto/webhook.dto';
import {
  DELIVERY_IN_FLIGHT,
  DELIVERY_NOT_FOUND,
  WEBHOOK_NOT_FOUND,
  WebhooksService,
} from './webhooks.service';

const ORG_NOT_FOUND = { code: ErrorCode.EntityNotFound, messages: ['Organization not found'] };
const NOT_FOUND = {
  code: ErrorCode.EntityNotFound,
  messages: ['Organization not found', WEBHOOK_NOT_FOUND],
};
class WebhookPageDto extends PageOf(WebhookResponseDto) {}
class WebhookDeliveryPageDto extends PageOf(WebhookDeliveryDto) {}

@ApiTags('Webhooks')
@Controller('v1/organizations/:organizationId/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(200)
  @Authenticated(Permission.WebhookCreate)
  @ApiOperation({
    summary: 'Subscribe a URL to events; the answer carries the signing secret, shown only once',
  })
  @ApiOkEnvelope(WebhookWithSecretDto)
  @ApiErrors(5091, 4015, ORG_NOT_FOUND)
  create(
    @CurrentUser() user: AuthUser,
    @Param() p: OrganizationParamsDto,
    @Body() dto: CreateWebhookDto,
  ) {
    return this.webhooks.create(user, p.organizationId, dto);
  }

  @Get()
  @Authenticated(Permission.WebhookList)
  @ApiOperation({ summary: "The organization's webhooks, newest first (paginated)" })
  @ApiOkEnvelope(WebhookPageDto)
  @ApiErrors(5091, ORG_NOT_FOUND)
  list(@CurrentUser() user: AuthUser, @Param() p: OrganizationParamsDto, @Query() q: PageQueryDto) {
    const page = toPageRequest(q, ['createdAt', 'updatedAt'], 'createdAt:desc');
    return this.webhooks.list(user, p.organizationId, page);
  }

  @Get(':webhookId')
  @Authenticated(Permission.WebhookGet)
  @ApiOperation({ summary: 'One webhook (never its secret)' })
  @ApiOkEnvelope(WebhookResponseDto)
  @ApiErrors(5091, NOT_FOUND)
  get(@CurrentUser() user: AuthUser, @Param() p: WebhookParamsDto) {
    return this.webhooks.get(user, p.organizationId, p.webhookId);
  }

  @Patch(':webhookId')
  @Authenticated(Permission.WebhookUpdate)
  @ApiOperation({ summary: 'Change the URL, filters or active flag (active: true re-enables)' })
  @ApiOkEnvelope(WebhookResponseDto)
  @ApiErrors(5091, 4015, NOT_FOUND)
  update(
    @CurrentUser() user: AuthUser,
    @Param() p: WebhookParamsDto,
    @Body() dto: UpdateWebhookDto,
  ) {
    return this.webhooks.update(user, p.organizationId, p.webhookId, dto);
  }

  @Delete(':webhookId')
  @Authenticated(Permission.WebhookDelete)
  @ApiOperation({ summary: 'Delete the webhook and its deliveries' })
  @ApiOkEnvelope(WebhookDeletedDto)
  @ApiErrors(5091, NOT_FOUND)
  delete(@CurrentUser() user: AuthUser, @Param() p: WebhookParamsDto) {
    return this.webhooks.delete(user, p.organizationId, p.webhookId);
  }

  @Post(':webhookId/rotate-secret')
  @HttpCode(200)
  @Authenticated(Permission.WebhookUpdate)
  @ApiOperation({
    summary:
      'A new signing secret, shown once; the previous one also signs during the grace period',
  })
  @ApiOkEnvelope(WebhookWithSecretDto)
  @ApiErrors(5091, NOT_FOUND, conflictError('The secret was rotated concurrently; try again'))
  rotate(
    @CurrentUser() user: AuthUser,
    @Param() p: WebhookParamsDto,
    @Body() dto: RotateSecretDto,
  ) {
    return this.webhooks.rotateSecret(user, p.organizationId, p.webhookId, dto);
  }

  @Get(':webhookId/deliveries')
  @Authenticated(Permission.WebhookGet)
  @ApiOperation({
    summary: 'Deliveries: status, attempts, last HTTP code and latency, next try (paginated)',
  })
  @ApiOkEnvelope(WebhookDeliveryPageDto)
  @ApiErrors(5091, NOT_FOUND)
  deliveries(
    @CurrentUser() user: AuthUser,
    @Param() p: WebhookParamsDto,
    @Query() q: PageQueryDto,
  ) {
    const page = toPageRequest(q, ['createdAt', 'updatedAt'], 'createdAt:desc');
    return this.webhooks.listDeliveries(user, p.organizationId, p.webhookId, page);
  }

  @Post(':webhookId/test')
  @HttpCode(200)
  @Authenticated(Permission.WebhookUpdate)
  @ApiOperation({ summary: 'Queue a ping event to this webhook; answers its delivery' })
  @ApiOkEnvelope(WebhookDeliveryDto)
  @ApiErrors(5091, NOT_FOUND)
  test(@CurrentUser() user: AuthUser, @Param() p: WebhookParamsDto) {
    return this.webhooks.ping(user, p.organizationId, p.webhookId);
  }

  @Post(':webhookId/deliveries/:deliveryId/retry')
  @HttpCode(200)
  @Authenticated(Permission.WebhookUpdate)
  @ApiOperation({ summary: 'Send a delivery again now, whatever it ended as (fresh deadline)' })
  @ApiOkEnvelope(WebhookDeliveryDto)
  @ApiErrors(
    5091,
    { ...NOT_FOUND, messages: [...NOT_FOUND.messages, DELIVERY_NOT_FOUND] },
    conflictError(DELIVERY_IN_FLIGHT),
  )
  retry(@CurrentUser() user: AuthUser, @Param() p: DeliveryParamsDto) {
    return this.webhooks.retry(user, p.organizationId, p.webhookId, p.deliveryId);
  }
}
