import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageOf, PageQueryDto } from '../../common/pagination/pagination';
import { ASSIGNMENT_STATES, AssignmentState } from '../profiles.types';

export class ProfileStatusQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ASSIGNMENT_STATES, description: 'Only devices in this state' })
  @IsOptional()
  @IsIn(ASSIGNMENT_STATES)
  state?: AssignmentState;
}

export class SettingOutcomeDto {
  @ApiProperty({ example: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera' }) path!: string;
  @ApiProperty({
    enum: ['delivering', 'verifying', 'verified', 'failed', 'drifted', 'removing', 'removed'],
  })
  state!: string;
  @ApiPropertyOptional({
    example: 200,
    description: 'The SyncML code that decided it: the write’s, or the read-back Get’s',
  })
  statusCode?: number;
  @ApiPropertyOptional({
    example: '1',
    description: 'The value the device answered, when it is not the desired one',
  })
  deviceValue?: string;
  @ApiPropertyOptional({
    enum: ['yes', 'unreadable'],
    description:
      'yes: read back and equal; unreadable: the device does not answer Get for it (404/405)',
  })
  verified?: 'yes' | 'unreadable';
}

export class AssignmentFailureDto {
  @ApiProperty() path!: string;
  @ApiProperty({ type: Number, nullable: true, example: 500 }) statusCode!: number | null;
  @ApiPropertyOptional() deviceValue?: string;
}

export class ProfileDeviceStatusDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60703' }) winDeviceId!: string;
  @ApiProperty({ enum: ASSIGNMENT_STATES }) state!: string;
  @ApiProperty({ example: 2, description: 'The profile revision the device is given' })
  revision!: number;
  @ApiProperty({
    type: AssignmentFailureDto,
    nullable: true,
    description: 'failed or drifted: the first failing setting, its code and the device value',
  })
  failure!: AssignmentFailureDto | null;
  @ApiProperty({ type: String, format: 'date-time' }) stateChangedAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextVerifyAt!: Date | null;
}

export class ProfileDeviceStatusPageDto extends PageOf(ProfileDeviceStatusDto) {}

export class ProfileStateCountsDto {
  @ApiProperty() pending!: number;
  @ApiProperty() delivering!: number;
  @ApiProperty() verifying!: number;
  @ApiProperty() verified!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() drifted!: number;
  @ApiProperty() removing!: number;
  @ApiProperty() removed!: number;
}

export class ProfileStatusDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({ example: 2 }) revision!: number;
  @ApiProperty({ type: ProfileStateCountsDto }) counts!: ProfileStateCountsDto;
  @ApiProperty({ type: ProfileDeviceStatusPageDto }) devices!: ProfileDeviceStatusPageDto;
}

export class DeviceProfileDto {
  @ApiProperty() profileId!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null once the profile is deleted' })
  name!: string | null;
  @ApiProperty({ enum: ['device', 'user'], nullable: true }) scope!: string | null;
  @ApiProperty({ description: 'The revision the device is given' }) revision!: number;
  @ApiProperty({ enum: ASSIGNMENT_STATES }) state!: string;
  @ApiProperty({ type: [SettingOutcomeDto] }) settings!: SettingOutcomeDto[];
  @ApiProperty({ type: AssignmentFailureDto, nullable: true })
  failure!: AssignmentFailureDto | null;
  @ApiProperty({ type: String, format: 'date-time' }) stateChangedAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) nextVerifyAt!: Date | null;
}
