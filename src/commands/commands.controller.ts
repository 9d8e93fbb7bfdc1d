import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../auth/auth-user';
import { Authenticated, CurrentUser } from '../auth/auth.decorators';
import { Permission } from '../auth/permissions';
import { DEVICE_UNENROLLED_MESSAGE, ERROR_MESSAGES, ErrorCode } from '../common/errors';
import { ApiErrors, ApiOkEnvelope, conflictError, notFoundError } from '../common/http/swagger';
import { PageQueryDto, toPageRequest } from '../common/pagination/pagination';
import { DeviceParamsDto } from '../devices/dto/device.dto';
import { presentBatch, presentBatchSummary, presentCommand } from './command-presenter';
import { CommandsService } from './commands.service';
import {
  CancelCommandsDto,
  CommandBatchParamsDto,
  ListActionsQueryDto,
} from './dto/command-params.dto';
import {
  CancelResultDto,
  CommandBatchPageDto,
  CommandBatchResponseDto,
  CommandPageDto,
} from './dto/command-response.dto';
import { CreateCommandsDto } from './dto/create-commands.dto';

const DEVICE_NOT_ACTIVE = {
  code: ErrorCode.DeviceNotActive,
  messages: [ERROR_MESSAGES[ErrorCode.DeviceNotActive], DEVICE_UNENROLLED_MESSAGE],
};
const IDEMPOTENCY_CONFLICT = 'Idempotency-Key was already used with a different request body';

@ApiTags('Windows device commands')
@Controller('v1/organizations/:organizationId/mdm/windows/enterprise/devices/:winDeviceId/commands')
export class CommandsController {
  constructor(private readonly commands: CommandsService) {}

  @Post()
  @HttpCode(200)
  @Authenticated(Permission.CommandCreate)
  @ApiOperation({
    summary: 'Queue a batch of OMA-DM commands for the device',
    description:
      'Each command is queued with a unique cmdId and status Pending, and delivered in order in the ' +
      "device's next management session. Also served with a trailing slash.",
  })
  // Named as @Headers() reads it (lower case): @nestjs/swagger merges the two by exact name, and
  // under another spelling it adds a second, *required* header that blocks "Try it out".
  @ApiHeader({
    name: 'idempotency-key',
    required: false,
    description:
      'Idempotency-Key (1-255 visible ASCII characters). Retrying with the same key and body returns ' +
      'the same batch; another body is refused (409 4009)',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', maxLength: 255 },
  })
  @ApiOkEnvelope(CommandBatchResponseDto)
  @ApiErrors(
    5091,
    DEVICE_NOT_ACTIVE,
    4015,
    notFoundError('Organization', 'Enterprise', 'Device'),
    conflictError(IDEMPOTENCY_CONFLICT),
  )
  async create(
    @CurrentUser() user: AuthUser,
    @Param() p: DeviceParamsDto,
    @Body() dto: CreateCommandsDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return presentBatch(
      await this.commands.enqueue(user, p.organizationId, p.winDeviceId, dto, idempotencyKey),
    );
  }

  @Get()
  @Authenticated(Permission.CommandList)
  @ApiOperation({
    summary: "The device's command batches, newest first (paginated; sort by createdAt)",
  })
  @ApiOkEnvelope(CommandBatchPageDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Device'))
  async list(@CurrentUser() user: AuthUser, @Param() p: DeviceParamsDto, @Query() q: PageQueryDto) {
    const page = toPageRequest(q, ['createdAt', 'updatedAt'], 'createdAt:desc');
    const result = await this.commands.listBatches(user, p.organizationId, p.winDeviceId, page);
    return { ...result, docs: result.docs.map(presentBatchSummary) };
  }

  @Get(':winCommandId')
  @Authenticated(Permission.CommandGet)
  @ApiOperation({ summary: "One batch in the POST's shape, with its name and status summary" })
  @ApiOkEnvelope(CommandBatchResponseDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Device', 'Command batch'))
  async get(@CurrentUser() user: AuthUser, @Param() p: CommandBatchParamsDto) {
    return presentBatch(
      await this.commands.getBatch(user, p.organizationId, p.winDeviceId, p.winCommandId),
    );
  }

  @Get(':winCommandId/actions')
  @Authenticated(Permission.CommandGet)
  @ApiOperation({
    summary: "The batch's commands in batch order (paginated, filterable by status)",
  })
  @ApiOkEnvelope(CommandPageDto)
  @ApiErrors(5091, notFoundError('Organization', 'Enterprise', 'Device', 'Command batch'))
  async actions(
    @CurrentUser() user: AuthUser,
    @Param() p: CommandBatchParamsDto,
    @Query() q: ListActionsQueryDto,
  ) {
    const page = toPageRequest(q, ['position'], 'position:asc');
    const result = await this.commands.listActions(
      user,
      p.organizationId,
      p.winDeviceId,
      p.winCommandId,
      page,
      q.status,
    );
    return { ...result, docs: result.docs.map(presentCommand) };
  }

  @Post(':winCommandId/cancel')
  @HttpCode(200)
  @Authenticated(Permission.CommandCancel)
  @ApiOperation({
    summary: 'Cancel commands that are still Pending (all of the batch, or the listed cmdIds)',
  })
  @ApiOkEnvelope(CancelResultDto)
  @ApiErrors(5091, 4015, notFoundError('Organization', 'Enterprise', 'Device', 'Command batch'))
  cancel(
    @CurrentUser() user: AuthUser,
    @Param() p: CommandBatchParamsDto,
    @Body() dto: CancelCommandsDto,
  ) {
    return this.commands.cancel(user, p.organizationId, p.winDeviceId, p.winCommandId, dto.cmdIds);
  }
}
