import { Body, Controller, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser } from '../../auth/auth-user';
import { Authenticated, CurrentUser } from '../../auth/auth.decorators';
import { Permission } from '../../auth/permissions';
import { DEVICE_UNENROLLED_MESSAGE, ERROR_MESSAGES, ErrorCode } from '../../common/errors';
import { ApiErrors, ApiOkEnvelope, conflictError, notFoundError } from '../../common/http/swagger';
import { DeviceParamsDto } from '../../devices/dto/device.dto';
import { presentBatch } from '../command-presenter';
import { DeviceActionBatchResponseDto } from '../dto/command-response.dto';
import { DeviceActionDto } from './device-action.dto';
import { DeviceActionsService } from './device-actions.service';

const DEVICE_NOT_ACTIVE = {
  code: ErrorCode.DeviceNotActive,
  messages: [ERROR_MESSAGES[ErrorCode.DeviceNotActive], DEVICE_UNENROLLED_MESSAGE],
};

@ApiTags('Windows device commands')
@Controller('v1/organizations/:organizationId/mdm/windows/enterprise/devices/:winDeviceId/actions')
export class DeviceActionsController {
  constructor(private readonly actions: DeviceActionsService) {}

  @Post()
  @HttpCode(200)
  @Authenticated(Permission.DeviceAction)
  @ApiOperation({
    summary: 'Run a device action: reboot, sync (inventory refresh), wipe, installMsi, wake',
    description:
      'The action is compiled into OMA-DM commands queued as one batch, answered like POST …/commands ' +
      'with the typed `action`. wipe requires `confirm` = the Windows device id. installMsi is ' +
      'answered 202 by Windows: its Exec stays Awaiting until the install alert arrives (or ' +
      'SYNCML_ASYNC_RESULT_TIMEOUT_SECONDS passes). wake queues nothing: it asks WNS to wake the ' +
      'device now (needs WNS credentials and a channel the device reported) and answers ' +
      '`{action: {name: "wake"}, push: "requested" | "off" | "no-channel"}`.',
  })
  @ApiHeader({
    name: 'idempotency-key',
    required: false,
    description:
      'As for POST …/commands: a retry with the same key and body returns the same batch',
    schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', maxLength: 255 },
  })
  @ApiOkEnvelope(DeviceActionBatchResponseDto)
  @ApiErrors(
    5091,
    DEVICE_NOT_ACTIVE,
    4015,
    notFoundError('Organization', 'Enterprise', 'Device'),
    conflictError('Idempotency-Key was already used with a different request body'),
  )
  async run(
    @CurrentUser() user: AuthUser,
    @Param() p: DeviceParamsDto,
    @Body() dto: DeviceActionDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const done = await this.actions.run(user, p.organizationId, p.winDeviceId, dto, idempotencyKey);
    return 'push' in done ? done : presentBatch(done);
  }
}
