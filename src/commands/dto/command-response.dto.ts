import { PageOf } from '../../common/pagination/pagination';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { COMMAND_ACTIONS, COMMAND_FORMATS } from '../commands.types';
import { ALL_COMMAND_STATUSES } from '../command-status';

export class CommandConfigResponseDto {
  @ApiProperty({ example: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera' }) path!: string;
  @ApiProperty({ enum: COMMAND_ACTIONS, example: 'Replace' }) action!: string;
  @ApiPropertyOptional({ example: '0' }) value?: string;
  @ApiProperty({ enum: COMMAND_FORMATS, example: 'int' }) format!: string;
}

export class CommandDataItemDto {
  @ApiProperty({ example: './DevDetail/SwV' }) path!: string;
  @ApiPropertyOptional({ example: 'chr' }) format?: string;
  @ApiPropertyOptional({ example: 'text/plain' }) type?: string;
  @ApiPropertyOptional({ example: '10.0.22631.4460' }) value?: string;
}

export class CommandResponseDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718-0', maxLength: 128 }) cmdId!: string;
  @ApiProperty({ enum: ALL_COMMAND_STATUSES, example: 'Pending' }) status!: string;
  @ApiProperty({ type: CommandConfigResponseDto }) config!: CommandConfigResponseDto;
  @ApiProperty({ type: [CommandDataItemDto] }) data!: CommandDataItemDto[];
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 200,
    description: 'The SyncML status code the device answered (null until it answers)',
  })
  statusCode!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  sentAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  receivedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  canceledAt!: Date | null;
}

export class StatusCountDto {
  @ApiProperty({ example: 'Pending' }) status!: string;
  @ApiProperty({ example: 2 }) count!: number;
}

/** The fields of every batch view (plain and device-action batches). */
class CommandBatchFieldsDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718' }) id!: string;
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60701' }) organizationId!: string;
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60702' }) winEnterpriseId!: string;
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60703' }) winDeviceId!: string;
  @ApiProperty({ type: String, nullable: true, example: '6650f1c2a1b2c3d4e5f60704' }) mdmUserId!:
    string | null;
  @ApiProperty({ type: [CommandResponseDto] }) commands!: CommandResponseDto[];
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, nullable: true, example: 'Disable camera' }) name!: string | null;
  @ApiProperty({ type: [StatusCountDto], description: 'How many commands are in each status' })
  summary!: StatusCountDto[];
}

export class BatchActionDto {
  @ApiProperty({ example: 'wipe', description: 'The device action (POST …/actions)' })
  name!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { mode: 'wipe' },
    description: 'What the action was asked to do (wipe: mode; installMsi: productId, url, hash)',
  })
  params?: Record<string, string>;
}

export class CommandOriginDto {
  @ApiProperty({ example: 'profile', description: 'The module that queued the batch' })
  kind!: string;
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60720', description: 'Its id there (the profile)' })
  id!: string;
  @ApiPropertyOptional({ example: 3, description: 'The revision that produced the commands' })
  revision?: number;
}

export class CommandBatchResponseDto extends CommandBatchFieldsDto {
  @ApiPropertyOptional({
    type: BatchActionDto,
    description: 'Present when the batch was queued by POST …/actions',
  })
  action?: BatchActionDto;
  @ApiPropertyOptional({
    type: CommandOriginDto,
    description: 'Present when a profile (not a REST client) queued the batch',
  })
  origin?: CommandOriginDto;
  @ApiPropertyOptional({
    example: true,
    description: 'Present (true) when the commands are delivered inside one SyncML Atomic',
  })
  atomic?: boolean;
}

export class DeviceActionBatchResponseDto extends CommandBatchFieldsDto {
  @ApiProperty({ type: BatchActionDto }) action!: BatchActionDto;
}

export class CommandBatchSummaryDto {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty() winDeviceId!: string;
  @ApiProperty({ type: [StatusCountDto] }) summary!: StatusCountDto[];
  @ApiPropertyOptional({ type: CommandOriginDto }) origin?: CommandOriginDto;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
}

export class CommandBatchPageDto extends PageOf(CommandBatchSummaryDto) {}

export class CommandPageDto extends PageOf(CommandResponseDto) {}

export class CancelResultItemDto {
  @ApiProperty() cmdId!: string;
  @ApiProperty() canceled!: boolean;
  @ApiProperty({ example: 'Cancel' }) status!: string;
  @ApiPropertyOptional({
    enum: ['already-canceled', 'already-sent', 'finished', 'not-found'],
    description: 'Why it was not cancelled',
  })
  reason?: string;
}

export class CancelResultDto {
  @ApiProperty() id!: string;
  @ApiProperty({ type: [CancelResultItemDto] }) results!: CancelResultItemDto[];
}
