import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { OrganizationParamsDto } from '../../organizations/dto/create-organization.dto';
import { ALL_EVENTS, WEBHOOK_EVENT_TYPES } from '../webhooks.types';

const EVENT_FILTERS = [...WEBHOOK_EVENT_TYPES, ALL_EVENTS];
const OBJECT_ID = /^[a-fA-F0-9]{24}$/;

export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://hooks.example.com/mullion',
    description:
      'https (http only when WEBHOOK_ALLOW_HTTP is set); must not resolve to a private address',
    maxLength: 2048,
  })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ enum: EVENT_FILTERS, isArray: true, example: ['command.status.changed'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_FILTERS.length)
  @ArrayUnique()
  @IsIn(EVENT_FILTERS, { each: true })
  events!: string[];

  @ApiPropertyOptional({
    description: 'Only events about these devices (winDeviceId); empty or absent: every device',
    type: [String],
    example: [],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @Matches(OBJECT_ID, { each: true, message: 'each deviceIds entry must be a 24-hex winDeviceId' })
  deviceIds?: string[];

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class UpdateWebhookDto {
  @ApiPropertyOptional({ maxLength: 2048 })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ enum: EVENT_FILTERS, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_FILTERS.length)
  @ArrayUnique()
  @IsIn(EVENT_FILTERS, { each: true })
  events?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ArrayUnique()
  @Matches(OBJECT_ID, { each: true, message: 'each deviceIds entry must be a 24-hex winDeviceId' })
  deviceIds?: string[];

  @ApiPropertyOptional({ description: 'true re-enables a subscription disabled for failing' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class RotateSecretDto {
  @ApiPropertyOptional({
    description: 'Seconds the previous secret keeps signing (default WEBHOOK_SECRET_GRACE_SECONDS)',
    minimum: 0,
    maximum: 30 * 86400,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(30 * 86400)
  graceSeconds?: number;
}

export class WebhookParamsDto extends OrganizationParamsDto {
  @ApiProperty({ pattern: '^[a-fA-F0-9]{24}$', example: '6650f1c2a1b2c3d4e5f60718' })
  @Matches(OBJECT_ID, { message: 'webhookId must be a 24-hex id' })
  webhookId!: string;
}

export class DeliveryParamsDto extends WebhookParamsDto {
  @ApiProperty({ example: 'evt_6650f1c2a1b2c3d4e5f60718_…:6650f1c2a1b2c3d4e5f60719' })
  @IsString()
  @MaxLength(200)
  deliveryId!: string;
}

export class WebhookResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({ type: [String] }) deviceIds!: string[];
  @ApiProperty() active!: boolean;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why it was disabled (failing)' })
  disabledReason!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) disabledAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) failingSince!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  secretRotatedAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  previousSecretExpiresAt!: Date | null;
  @ApiProperty() createdBy!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
}

export class WebhookWithSecretDto extends WebhookResponseDto {
  @ApiProperty({
    description: 'The signing secret: shown only here, store it now',
    example: 'whsec_…',
  })
  secret!: string;
}

export class WebhookDeliveryDto {
  @ApiProperty() id!: string;
  @ApiProperty() subscriptionId!: string;
  @ApiProperty() eventId!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'dead'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextAttemptAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastAttemptAt!: Date | null;
  @ApiProperty({ type: Number, nullable: true }) lastStatusCode!: number | null;
  @ApiProperty({ type: Number, nullable: true }) lastLatencyMs!: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) deliveredAt!: Date | null;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
}

export class WebhookDeletedDto {
  @ApiProperty({ example: true }) deleted!: boolean;
}
