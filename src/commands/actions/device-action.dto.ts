import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength } from 'class-validator';
import { IsOptionalNotNull } from '../../common/http/validation';
import { DEVICE_ACTION_NAMES, WIPE_MODES, type DeviceActionInput } from './device-actions';

/**
 * POST …/actions: `action` names the action; the other fields belong to one action each (a field
 * of another action is refused). Their rules are the action's own (device-actions.ts).
 */
export class DeviceActionDto implements DeviceActionInput {
  @ApiProperty({ enum: DEVICE_ACTION_NAMES, example: 'reboot' })
  @IsDefined()
  @IsString()
  action!: string;

  @ApiPropertyOptional({ enum: WIPE_MODES, description: 'wipe: the RemoteWipe operation' })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(64)
  mode?: string;

  @ApiPropertyOptional({
    description: "wipe (required): the device's Windows device id, to confirm the target",
    example: '5C9A0E3B7D214F68A1B2C3D4E5F60718',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(128)
  confirm?: string;

  @ApiPropertyOptional({
    description: 'installMsi (required): the MSI product code, a GUID in braces',
    example: '{AF9257BA-6BBD-4624-AA9B-0182D50292C3}',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(38)
  productId?: string;

  @ApiPropertyOptional({
    description: 'installMsi (required): https URL the device downloads the MSI from',
    example: 'https://downloads.example.com/app.msi',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({
    description: 'installMsi (required): SHA-256 of the MSI file, hex; the device checks it',
    example: 'a3f1c0ffee0a3f1c0ffee0a3f1c0ffee0a3f1c0ffee0a3f1c0ffee0a3f1c0ffe',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(64)
  hash?: string;

  @ApiPropertyOptional({
    description: 'installMsi: msiexec command line (default /quiet)',
    example: '/quiet',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(1024)
  commandLine?: string;

  @ApiPropertyOptional({
    description: 'installMsi: the MSI ProductVersion (default 1.0.0.0)',
    example: '1.2.3.4',
  })
  @IsOptionalNotNull()
  @IsString()
  @MaxLength(23)
  version?: string;
}
