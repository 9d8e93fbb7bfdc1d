import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsOptionalNotNull } from '../../common/http/validation';

export class CreateOrganizationDto {
  @ApiProperty({ example: 'Contoso Ltd', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({
    description: 'URL-safe handle usable in place of the id; derived from the name when omitted',
    example: 'contoso',
    pattern: '^[a-z0-9][a-z0-9-]{2,62}$',
  })
  @IsOptionalNotNull()
  @IsString()
  @MinLength(3)
  @MaxLength(63)
  @Matches(/^[a-z0-9][a-z0-9-]{2,62}$/, {
    message:
      'slug must be 3-63 lower-case letters, digits or dashes, starting with a letter or digit',
  })
  @Matches(/^(?![a-fA-F0-9]{24}$)/, { message: 'slug must not look like a 24-hex id' })
  slug?: string;
}

export class OrganizationParamsDto {
  @ApiProperty({ pattern: '^(([a-fA-F0-9]{24})|([a-zA-Z0-9\\-]{3,}))$', example: 'contoso' })
  @Matches(/^(([a-fA-F0-9]{24})|([a-zA-Z0-9-]{3,}))$/, {
    message: 'organizationId must be a 24-hex id or a slug of at least 3 letters, digits or dashes',
  })
  organizationId!: string;
}

export class OrganizationResponseDto {
  @ApiProperty({ example: '6650f1c2a1b2c3d4e5f60718' }) id!: string;
  @ApiProperty({ example: 'Contoso Ltd' }) name!: string;
  @ApiProperty({ example: 'contoso' }) slug!: string;
  @ApiProperty({ enum: ['active', 'suspended'] }) status!: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: Date;
}
