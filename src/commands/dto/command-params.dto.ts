import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ArrayMaxSize,
  ArrayNotEmpty,
} from 'class-validator';
import { IsOptionalNotNull } from '../../common/http/validation';
import { PageQueryDto } from '../../common/pagination/pagination';
import { DeviceParamsDto } from '../../devices/dto/device.dto';
import { ALL_COMMAND_STATUSES } from '../command-status';

export class CommandBatchParamsDto extends DeviceParamsDto {
  @ApiProperty({ pattern: '^[a-fA-F0-9]{24}$', example: '6650f1c2a1b2c3d4e5f60718' })
  @Matches(/^[a-fA-F0-9]{24}$/, { message: 'winCommandId must be a 24-hex id' })
  winCommandId!: string;
}

export class ListActionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: [...ALL_COMMAND_STATUSES, 'MalformedSyntax'] })
  @IsOptional()
  @IsIn([...ALL_COMMAND_STATUSES, 'MalformedSyntax'])
  status?: string;
}

export class CancelCommandsDto {
  @ApiPropertyOptional({
    type: [String],
    description: 'The cmdIds to cancel; all of the batch when omitted',
    maxItems: 1000,
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  cmdIds?: string[];
}
