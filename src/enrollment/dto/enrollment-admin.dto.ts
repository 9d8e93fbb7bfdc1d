import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  MaxLength,
  ValidateBy,
} from 'class-validator';
import { parseDuration } from '../duration';

export const MAX_INVITATIONS_PER_REQUEST = 100;

export class CreateEnrollmentTokensDto {
  @ApiProperty({
    description: 'The users to invite (enrollment usernames); one single-use token each',
    example: ['alice@contoso.com', 'bob@contoso.com'],
    type: [String],
    minItems: 1,
    maxItems: MAX_INVITATIONS_PER_REQUEST,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_INVITATIONS_PER_REQUEST)
  @MaxLength(254, { each: true })
  @IsEmail(
    { require_tld: true, allow_ip_domain: false },
    { each: true, message: 'each userEmails entry must be an e-mail address' },
  )
  userEmails!: string[];

  @ApiPropertyOptional({
    description:
      'How long the tokens stay valid: seconds (3600), units (90m, 12h, 7d, 1w, 1d12h) or ISO 8601 ' +
      '(PT1H, P7D). From 1 minute to ENROLLMENT_TOKEN_MAX_TTL_SECONDS (30 days by default); ' +
      'default ENROLLMENT_TOKEN_DEFAULT_TTL_SECONDS (7 days).',
    oneOf: [
      { type: 'string', example: '7d' },
      { type: 'integer', example: 86400 },
    ],
    example: '7d',
  })
  @ValidateBy({
    name: 'isEnrollmentDuration',
    validator: {
      validate: (v: unknown) => v === undefined || parseDuration(v) !== null,
      defaultMessage: () =>
        'duration must be seconds (3600), units such as 12h or 7d, or an ISO 8601 duration such as PT1H',
    },
  })
  duration?: string | number;
}

export class EnrollmentTokenDto {
  @ApiProperty({ example: 'alice@contoso.com' }) email!: string;
  @ApiProperty({
    description: 'Shown once: the password the user types when Windows asks for one',
    example: 'K7QM-2XPA-9D4F-R1TB-HZ6W-EJ3N-80CV',
  })
  token!: string;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt!: Date;
  @ApiProperty({
    description: 'Opens Windows enrollment with the username and server filled in',
    example:
      'ms-device-enrollment:?mode=mdm&username=alice@contoso.com&servername=https://mdm.contoso.com',
  })
  deepLink!: string;
  @ApiProperty({ description: 'The MDM user the enrolled device will belong to' })
  mdmUserId!: string;
}

export class EnrollmentSecretDto {
  @ApiProperty({
    description:
      'Shown once: the password users of the enterprise domains type at enrollment. ' +
      'Rotating replaces the previous secret at once.',
    example: 'Q2M8-XK4D-PA7R-9T1B-WZ3H-C6EN-J5FV-08GY',
  })
  secret!: string;
  @ApiProperty({ type: String, format: 'date-time' }) rotatedAt!: Date;
}
