import { sign, SignOptions } from 'jsonwebtoken';

export interface MintTokenInput {
  subject: string;
  organizations: string[];
  permissions: string[];
  /** e.g. '1h', '15m', '7d' or seconds. */
  ttl?: string | number;
  issuer?: string;
  audience?: string;
}

/** Signs an HS256 token with the local secret (local use, tests, Swagger UI). */
export function mintToken(secret: string, input: MintTokenInput): string {
  const options: SignOptions = {
    algorithm: 'HS256',
    subject: input.subject,
    expiresIn: (input.ttl ?? '1h') as SignOptions['expiresIn'],
  };
  if (input.issuer) options.issuer = input.issuer;
  if (input.audience) options.audience = input.audience;
  return sign({ orgs: input.organizations, permissions: input.permissions }, secret, options);
}
