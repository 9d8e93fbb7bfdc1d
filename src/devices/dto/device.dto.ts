import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNotNull } from '../../common/http/validation';
import { PageOf, PageQueryDto } from '../../common/pagination/pagination';
import { OrganizationParamsDto } from '../../organizations/dto/create-organization.dto';
import { DeviceStatus, LABEL_PATTERN, MAX_DEVICE_LABELS } from '../devices.types';

const PEM_CERT = /^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/;

export class CreateDeviceDto {
  @ApiProperty({
    description: 'The Windows device id (./DevInfo/DevId, sent as the SyncHdr Source)',
    example: '5C9A0E3B7D214F68A1B2C3D4E5F60718',
    pattern: '^[\\w-]{1,128}$',
  })
  @IsString()
  @Matches(/^[\w-]{1,128}$/, {
    message: 'deviceId must be 1-128 letters, digits, underscores or dashes',
  })
  deviceId!: string;

  @ApiPropertyOptional({ example: 'Reception PC', maxLength: 200 })
  @IsOptionalNotNull()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    description: 'The MDM user this device belongs to',
    pattern: '^[a-fA-F0-9]{24}$',
  })
  @IsOptionalNotNull()
  @Matches(/^[a-fA-F0-9]{24}$/, { message: 'mdmUserId must be a 24-hex id' })
  mdmUserId?: string;

  @ApiPropertyOptional({
    description:
      "PEM of the device's TLS client certificate, for devices provisioned by an administrator",
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(16384)
  @Matches(PEM_CERT, { message: 'certificate must be one PEM-encoded X.509 certificate' })
  certificate?: string;
}

export class UpdateDeviceDto {
  @ApiPropertyOptional({ enum: ['active', 'inactive'] })
  @IsOptionalNotNull()
  @IsIn(['active', 'inactive'])
  status?: 'active' | 'inactive';

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptionalNotNull()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'PEM client certificate; replaces the stored thumbprint' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(16384)
  @Matches(PEM_CERT, { message: 'certificate must be one PEM-encoded X.509 certificate' })
  certificate?: string;

  @ApiPropertyOptional({
    type: [String],
    maxItems: MAX_DEVICE_LABELS,
    description:
      'Replaces the labels (profiles target devices by them): 1-64 characters, letters, digits and _ . : -',
    example: ['finance', 'kiosk'],
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_DEVICE_LABELS)
  @IsString({ each: true })
  @Matches(LABEL_PATTERN, {
    each: true,
    message: 'each label must be 1-64 characters: letters, digits and _ . : - (not first)',
  })
  labels?: string[];
}

export class DeviceParamsDto extends OrganizationParamsDto {
  @ApiProperty({
    pattern: '^(([a-fA-F0-9]{24})|(\\w{1,}))$',
    example: '5C9A0E3B7D214F68A1B2C3D4E5F60718',
  })
  @Matches(/^(([a-fA-F0-9]{24})|(\w{1,}))$/, {
    message:
      'winDeviceId must be a 24-hex id or a Windows device id (letters, digits, underscores)',
  })
  winDeviceId!: string;
}

export class ListDevicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: Object.values(DeviceStatus) })
  @IsOptional()
  @IsIn(Object.values(DeviceStatus))
  status?: DeviceStatus;
}

export class DeviceCertificateDto {
  @ApiProperty({ example: '3F2A…', description: 'SHA-1 of the DER, upper-case hex' })
  thumbprint!: string;
  @ApiPropertyOptional() serialNumber?: string;
  @ApiPropertyOptional({ type: String, format: 'date-time' }) notBefore?: Date;
  @ApiPropertyOptional({ type: String, format: 'date-time' }) notAfter?: Date;
  @ApiProperty({ enum: ['admin', 'enrollment'] }) source!: string;
}

export class DeviceRenewalDto {
  @ApiProperty({
    enum: ['none', 'due', 'renewed', 'expired'],
    description:
      'Computed when read: due = within RenewPeriod of certificate.notAfter and not renewed; ' +
      'renewed = a renewed certificate awaits its first use (the current one works until then)',
  })
  state!: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Start of the window' })
  dueAt?: Date;
  @ApiPropertyOptional({ type: DeviceCertificateDto }) certificate?: DeviceCertificateDto;
  @ApiPropertyOptional({ type: String, format: 'date-time' }) renewedAt?: Date;
}

export class DeviceResponseDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718' }) id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty() winEnterpriseId!: string;
  @ApiProperty({ example: '5C9A0E3B7D214F68A1B2C3D4E5F60718' }) deviceId!: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional() mdmUserId?: string;
  @ApiProperty({ enum: Object.values(DeviceStatus) }) status!: string;
  @ApiPropertyOptional({ type: DeviceCertificateDto }) certificate?: DeviceCertificateDto;
  @ApiProperty({ type: DeviceRenewalDto }) renewal!: DeviceRenewalDto;
  @ApiPropertyOptional({
    type: Object,
    description: 'DevInfo / DevDetail values reported by the device',
  })
  inventory?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: Object,
    description:
      'What the device reported when it enrolled itself: type, hwDevId, deviceName, osVersion, userEmail, via',
  })
  enrollment?: Record<string, unknown>;
  @ApiPropertyOptional({ type: String, format: 'date-time' }) lastSeenAt?: Date;
  @ApiProperty({ type: [String], example: ['finance'] }) labels!: string[];
  @ApiPropertyOptional({
    type: Object,
    description:
      'The WNS channel the device reported (DMClient Push/ChannelURI, Push/Status) and when',
    example: { channelUri: 'https://db5p.notify.windows.com/?token=…', status: '0' },
  })
  push?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'While `unenrolling`: when the administrator unenrolled the device',
  })
  unenrollRequestedAt?: Date;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'While `unenrolling`: it becomes `unenrolled` then even if the PC never confirms',
  })
  unenrollDeadline?: Date;
  @ApiPropertyOptional({ type: String, format: 'date-time' }) unenrolledAt?: Date;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
}

export class DevicePageDto extends PageOf(DeviceResponseDto) {}

/** RFC 1035 host name with at least two labels; matched case-insensitively, stored lower-case. */
export const EMAIL_DOMAIN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]\.?$/i;
export const MAX_ENTERPRISE_DOMAINS = 50;

export class CreateEnterpriseDto {
  @ApiPropertyOptional({ example: 'Contoso Windows fleet', maxLength: 200 })
  @IsOptionalNotNull()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    description:
      'E-mail domains whose users enroll into this enterprise with the enrollment secret ' +
      '(the part after @ of the enrollment username). A domain belongs to one enterprise only.',
    example: ['contoso.com'],
    type: [String],
    maxItems: MAX_ENTERPRISE_DOMAINS,
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_ENTERPRISE_DOMAINS)
  @IsString({ each: true })
  @Matches(EMAIL_DOMAIN, {
    each: true,
    message: 'each domain must be a DNS name such as contoso.com',
  })
  domains?: string[];
}

/** DMClient CSP Poll ranges: intervals in minutes (int), counts (0 = forever for the steady set). */
export class PollSetDto {
  @ApiPropertyOptional({ minimum: 0, maximum: 1440, example: 3 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(1440)
  intervalMinutes?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1000, example: 5 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(1000)
  count?: number;
}

export class PollScheduleDto {
  @ApiPropertyOptional({ type: PollSetDto, description: 'Right after enrollment' })
  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => PollSetDto)
  firstSet?: PollSetDto;

  @ApiPropertyOptional({ type: PollSetDto, description: 'After the first set' })
  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => PollSetDto)
  secondSet?: PollSetDto;

  @ApiPropertyOptional({ minimum: 1, maximum: 10080, example: 480 })
  @IsOptionalNotNull()
  @IsInt()
  @Min(1)
  @Max(10080)
  steadyIntervalMinutes?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 100000, description: '0 = forever (default)' })
  @IsOptionalNotNull()
  @IsInt()
  @Min(0)
  @Max(100000)
  steadyCount?: number;

  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() pollOnLogin?: boolean;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() allUsersPollOnFirstLogin?: boolean;
}

export class UpdateEnterpriseDto extends CreateEnterpriseDto {
  @ApiPropertyOptional({
    type: PollScheduleDto,
    description:
      "When the enterprise's devices check in by themselves (DMClient Poll). Fields left out " +
      'keep their current value; a change is queued to every active or inactive device.',
    example: {
      firstSet: { intervalMinutes: 3, count: 5 },
      secondSet: { intervalMinutes: 15, count: 8 },
      steadyIntervalMinutes: 480,
    },
  })
  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => PollScheduleDto)
  pollSchedule?: PollScheduleDto;
}

export class PollScheduleResponseDto {
  @ApiProperty({ example: { intervalMinutes: 15, count: 5 } }) firstSet!: PollSetDto;
  @ApiProperty({ example: { intervalMinutes: 60, count: 10 } }) secondSet!: PollSetDto;
  @ApiProperty({ example: 1440 }) steadyIntervalMinutes!: number;
  @ApiProperty({ example: 0 }) steadyCount!: number;
  @ApiProperty() pollOnLogin!: boolean;
  @ApiProperty() allUsersPollOnFirstLogin!: boolean;
}

export class EnterpriseCaDto {
  @ApiProperty({ description: 'The device CA certificate (PEM); devices get it in Root/System' })
  certificatePem!: string;
  @ApiProperty({ example: '3F2A…', description: 'SHA-1 of the DER, upper-case hex' })
  thumbprint!: string;
  @ApiProperty() serialNumber!: string;
  @ApiProperty({ type: String, format: 'date-time' }) notBefore!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) notAfter!: Date;
}

export class EnterpriseResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['active'] }) status!: string;
  @ApiProperty({ type: [String], example: ['contoso.com'] }) domains!: string[];
  @ApiProperty({ type: EnterpriseCaDto }) ca!: EnterpriseCaDto;
  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'When the enrollment secret was last rotated; absent while none is set',
  })
  enrollmentSecretRotatedAt?: Date;
  @ApiProperty({ type: PollScheduleResponseDto, description: 'Defaults when never set' })
  pollSchedule!: PollScheduleResponseDto;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
}

export class DeviceEventDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718' }) id!: string;
  @ApiProperty() winDeviceId!: string;
  @ApiProperty({
    example: '1226',
    description: 'SyncML alert code (1224 client event, 1226 generic alert)',
  })
  alertCode!: string;
  @ApiPropertyOptional({ example: 'com.microsoft:mdm.unenrollment.userrequest' }) type?: string;
  @ApiPropertyOptional({ example: 'int' }) format?: string;
  @ApiPropertyOptional({ example: 'informational' }) mark?: string;
  @ApiPropertyOptional({ example: './Vendor/MSFT/EnterpriseDesktopAppManagement/MSI' })
  source?: string;
  @ApiPropertyOptional({ example: '1' }) data?: string;
  @ApiProperty({ type: String, format: 'date-time' }) receivedAt!: Date;
}

export class DeviceEventPageDto extends PageOf(DeviceEventDto) {}
