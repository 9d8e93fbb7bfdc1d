import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { COMMAND_FORMATS, CommandFormat } from '../../commands/commands.types';
import { IsOptionalNotNull } from '../../common/http/validation';
import { OBJECT_ID } from '../../common/mongo/object-id';
import { PageOf } from '../../common/pagination/pagination';
import { LABEL_PATTERN } from '../../devices/devices.types';
import { OrganizationParamsDto } from '../../organizations/dto/create-organization.dto';
import {
  ON_REMOVE,
  OnRemove,
  PROFILE_SCOPES,
  ProfileScope,
  SETTING_ACTIONS,
  SettingAction,
} from '../profiles.types';

/** Labels a profile's targets may name, and device ids it may list. */
export const MAX_TARGET_LABELS = 100;
export const MAX_TARGET_DEVICE_IDS = 10_000;
const LABEL_MESSAGE = 'each label must be 1-64 characters: letters, digits and _ . : - (not first)';
/** class-validator walks every element first; the configured limit is checked after (PROFILE_MAX_SETTINGS). */
const SETTINGS_HARD_CAP = 10_000;

export class ProfileSettingDto {
  @ApiProperty({
    description: 'OMA-DM URI: ./Device/… or ./Vendor/… for scope device, ./User/… for scope user',
    maxLength: 1000,
    example: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
  })
  @IsDefined()
  @IsString()
  @IsNotEmpty()
  @MaxLength(1000)
  path!: string;

  @ApiProperty({ enum: COMMAND_FORMATS, example: 'int' })
  @IsDefined()
  @IsIn(COMMAND_FORMATS)
  format!: CommandFormat;

  @ApiPropertyOptional({
    description: 'Must fit the format; at most PROFILE_VALUE_MAX_BYTES (default 256 KiB)',
    example: '0',
  })
  @IsOptionalNotNull()
  @IsString()
  value?: string;

  @ApiPropertyOptional({ enum: SETTING_ACTIONS, default: 'Replace' })
  @IsOptionalNotNull()
  @IsIn(SETTING_ACTIONS)
  action?: SettingAction;

  @ApiPropertyOptional({
    default: true,
    description: 'Read the value back (Get) after delivery and compare it',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  verify?: boolean;
}

export class ProfileTargetsDto {
  @ApiPropertyOptional({ enum: [true], description: 'Every device of the enterprise' })
  @IsOptionalNotNull()
  @IsBoolean()
  all?: boolean;

  @ApiPropertyOptional({ type: [String], description: 'Devices carrying any of these labels' })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_TARGET_LABELS)
  @IsString({ each: true })
  @Matches(LABEL_PATTERN, { each: true, message: LABEL_MESSAGE })
  labels?: string[];

  @ApiPropertyOptional({
    type: [String],
    description: 'Minus devices carrying any of these (alone: every device but those)',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_TARGET_LABELS)
  @IsString({ each: true })
  @Matches(LABEL_PATTERN, { each: true, message: LABEL_MESSAGE })
  excludeLabels?: string[];

  @ApiPropertyOptional({ type: [String], description: 'These devices (24-hex ids)' })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_TARGET_DEVICE_IDS)
  @Matches(OBJECT_ID, { each: true, message: 'each deviceIds entry must be a 24-hex device id' })
  deviceIds?: string[];
}

export class CreateProfileDto {
  @ApiProperty({ maxLength: 200, example: 'Camera off' })
  @IsDefined()
  @IsString()
  @Matches(/\S/, { message: 'name must not be empty' })
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiProperty({ enum: PROFILE_SCOPES, example: 'device' })
  @IsDefined()
  @IsIn(PROFILE_SCOPES)
  scope!: ProfileScope;

  @ApiProperty({
    type: [ProfileSettingDto],
    description: 'At most PROFILE_MAX_SETTINGS (default 500); one setting per path',
  })
  @IsDefined()
  @IsArray()
  @ArrayMaxSize(SETTINGS_HARD_CAP)
  @IsObject({ each: true, message: 'each setting must be an object' })
  @ValidateNested({ each: true })
  @Type(() => ProfileSettingDto)
  settings!: ProfileSettingDto[];

  @ApiPropertyOptional({
    default: false,
    description: 'Deliver the settings inside one SyncML Atomic (all or none)',
  })
  @IsOptionalNotNull()
  @IsBoolean()
  atomic?: boolean;

  @ApiPropertyOptional({
    enum: ON_REMOVE,
    default: 'delete',
    description: 'When the profile stops applying to a device: Delete each setting, or keep them',
  })
  @IsOptionalNotNull()
  @IsIn(ON_REMOVE)
  onRemove?: OnRemove;

  @ApiProperty({ type: ProfileTargetsDto, example: { labels: ['finance'] } })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => ProfileTargetsDto)
  targets!: ProfileTargetsDto;
}

/** Every field optional; any change makes a new revision. */
export class UpdateProfileDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptionalNotNull()
  @IsString()
  @Matches(/\S/, { message: 'name must not be empty' })
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 1000 })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({ enum: PROFILE_SCOPES })
  @IsOptionalNotNull()
  @IsIn(PROFILE_SCOPES)
  scope?: ProfileScope;

  @ApiPropertyOptional({ type: [ProfileSettingDto] })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(SETTINGS_HARD_CAP)
  @IsObject({ each: true, message: 'each setting must be an object' })
  @ValidateNested({ each: true })
  @Type(() => ProfileSettingDto)
  settings?: ProfileSettingDto[];

  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsBoolean()
  atomic?: boolean;

  @ApiPropertyOptional({ enum: ON_REMOVE })
  @IsOptionalNotNull()
  @IsIn(ON_REMOVE)
  onRemove?: OnRemove;

  @ApiPropertyOptional({ type: ProfileTargetsDto })
  @IsOptionalNotNull()
  @IsObject()
  @ValidateNested()
  @Type(() => ProfileTargetsDto)
  targets?: ProfileTargetsDto;
}

export class ProfileParamsDto extends OrganizationParamsDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718' })
  @Matches(OBJECT_ID, { message: 'profileId must be a 24-hex id' })
  profileId!: string;
}

export class LabelParamsDto extends OrganizationParamsDto {
  @ApiProperty({ example: 'finance' })
  @Matches(LABEL_PATTERN, { message: 'label must be 1-64 characters: letters, digits and _ . : -' })
  label!: string;
}

export const MAX_LABEL_BULK_IDS = 10_000;

export class LabelDevicesDto {
  @ApiPropertyOptional({ type: [String], description: 'Device ids (24-hex) to label' })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LABEL_BULK_IDS)
  @Matches(OBJECT_ID, { each: true, message: 'each add entry must be a 24-hex device id' })
  add?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Device ids (24-hex) to unlabel' })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_LABEL_BULK_IDS)
  @Matches(OBJECT_ID, { each: true, message: 'each remove entry must be a 24-hex device id' })
  remove?: string[];
}

export class LabelDevicesResultDto {
  @ApiProperty({ example: 'finance' }) label!: string;
  @ApiProperty({ description: 'Devices that gained the label', example: 2 }) added!: number;
  @ApiProperty({ description: 'Devices that lost the label', example: 0 }) removed!: number;
  @ApiProperty({ description: 'Devices that already were as asked', example: 0 })
  unchanged!: number;
  @ApiProperty({ description: 'Ids that are no device of the enterprise', example: 0 })
  notFound!: number;
  @ApiProperty({ description: 'Profile plans stored for the changed devices', example: 1 })
  plans!: number;
}

export class ProfileSettingResponseDto {
  @ApiProperty() path!: string;
  @ApiProperty({ enum: COMMAND_FORMATS }) format!: string;
  @ApiPropertyOptional() value?: string;
  @ApiProperty({ enum: SETTING_ACTIONS }) action!: string;
  @ApiProperty() verify!: boolean;
}

export class ProfileResponseDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718' }) id!: string;
  @ApiProperty() organizationId!: string;
  @ApiProperty() winEnterpriseId!: string;
  @ApiProperty({ example: 'Camera off' }) name!: string;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ enum: PROFILE_SCOPES }) scope!: string;
  @ApiProperty({ type: [ProfileSettingResponseDto] }) settings!: ProfileSettingResponseDto[];
  @ApiProperty() atomic!: boolean;
  @ApiProperty({ enum: ON_REMOVE }) onRemove!: string;
  @ApiProperty({ type: Object, example: { labels: ['finance'] } }) targets!: object;
  @ApiProperty({ example: 1 }) revision!: number;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
}

export class ProfileWriteResponseDto extends ProfileResponseDto {
  @ApiProperty({
    description:
      'Devices the change is being planned for (a count at request time; planning runs in the background)',
    example: 100000,
  })
  devicesToPlan!: number;

  @ApiProperty({
    description:
      'True when devicesToPlan is the exact number of devices the targets reach. False when it ' +
      'is an upper bound: targets with several labels, or excluded labels, are counted from ' +
      'per-label device counts, which cannot tell how many devices carry two labels at once',
    example: true,
  })
  devicesToPlanExact!: boolean;
}

export class ProfilePageDto extends PageOf(ProfileResponseDto) {}
