import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageOf, PageQueryDto } from '../../common/pagination/pagination';

export class ListAuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only writes by this token subject', example: 'admin-1' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  actor?: string;

  @ApiPropertyOptional({
    description:
      'Only writes naming this id: the organization, a path parameter as given (device id, ' +
      'batch id) or the entity the write created or changed',
    example: '6650f1c2a1b2c3d4e5f60718',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  targetId?: string;

  @ApiPropertyOptional({
    description: 'Writes at or after this ISO 8601 time',
    type: String,
    format: 'date-time',
    example: '2025-01-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date or date-time' })
  from?: string;

  @ApiPropertyOptional({
    description: 'Writes at or before this ISO 8601 time',
    type: String,
    format: 'date-time',
    example: '2025-12-31T23:59:59Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date or date-time' })
  to?: string;
}

export class AuditRecordResponseDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718' }) id!: string;
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60701' }) organizationId!: string;
  @ApiProperty({ description: 'The token subject', example: 'admin-1' }) actor!: string;
  @ApiProperty({ enum: ['POST', 'PUT', 'PATCH', 'DELETE'] }) method!: string;
  @ApiProperty({
    example:
      '/v1/organizations/:organizationId/mdm/windows/enterprise/devices/:winDeviceId/commands',
  })
  route!: string;
  @ApiProperty({
    type: Object,
    description: 'Path parameters as the caller gave them',
    example: { organizationId: 'contoso', winDeviceId: '5C9A0E3B7D214F68A1B2C3D4E5F60718' },
  })
  params!: Record<string, string>;
  @ApiProperty({ type: [String], description: 'Every id the write names' }) targetIds!: string[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The entity the write created or changed, as the response names it',
  })
  entityId!: string | null;
  @ApiProperty({
    type: Object,
    description:
      'Counts from the request body (commandCount, cmdIdCount, invitationCount); never its content',
    example: { commandCount: 2 },
  })
  summary!: Record<string, number>;
  @ApiProperty({ enum: ['success', 'failure'] }) outcome!: string;
  @ApiProperty({ description: 'HTTP status of the answer', example: 200 }) status!: number;
  @ApiProperty({ type: Number, nullable: true, example: null }) errorCode!: number | null;
  @ApiProperty({ type: String, nullable: true }) requestId!: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) at!: Date;
}

export class AuditRecordPageDto extends PageOf(AuditRecordResponseDto) {}
