import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNotNull } from '../../common/http/validation';
import { COMMAND_ACTIONS, COMMAND_FORMATS, CommandAction, CommandFormat } from '../commands.types';

export class CommandConfigDto {
  @ApiProperty({
    description: 'OMA-DM URI of the node, starting with ./',
    maxLength: 500,
    example: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
  })
  @IsDefined()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  path!: string;

  @ApiProperty({ enum: COMMAND_ACTIONS, example: 'Replace' })
  @IsDefined()
  @IsIn(COMMAND_ACTIONS)
  action!: CommandAction;

  @ApiPropertyOptional({
    description:
      'Value for Add/Replace/Exec (must fit the format), the source URI for Copy; absent for Get and Delete',
    maxLength: 500,
    example: '0',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(500)
  value?: string;

  @ApiProperty({ enum: COMMAND_FORMATS, example: 'int' })
  @IsDefined()
  @IsIn(COMMAND_FORMATS)
  format!: CommandFormat;
}

export class CommandInputDto {
  @ApiProperty({ type: CommandConfigDto })
  @IsDefined()
  // Without it an array passes: ValidateNested walks an array's (no) elements instead.
  @IsObject()
  @ValidateNested()
  @Type(() => CommandConfigDto)
  config!: CommandConfigDto;
}

export class CreateCommandsDto {
  @ApiProperty({
    type: [CommandInputDto],
    description:
      'The commands, delivered in this order (at most COMMANDS_MAX_PER_BATCH, default 100)',
    example: [
      {
        config: {
          path: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
          action: 'Replace',
          value: '0',
          format: 'int',
        },
      },
      { config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } },
    ],
  })
  @IsDefined()
  @IsArray()
  @ArrayNotEmpty()
  @IsObject({ each: true, message: 'each command must be an object' })
  @ValidateNested({ each: true })
  @Type(() => CommandInputDto)
  commands!: CommandInputDto[];

  @ApiPropertyOptional({
    description:
      'Deliver the commands inside one SyncML Atomic (MS-MDM 2.2.7.3): all succeed or all are rolled back. No Get or Copy; they must fit one message',
    default: false,
  })
  @IsOptionalNotNull()
  @IsBoolean()
  atomic?: boolean;

  @ApiPropertyOptional({ maxLength: 500, example: 'Disable camera' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(500)
  name?: string;
}
