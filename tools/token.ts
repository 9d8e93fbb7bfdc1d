// npm run --silent token -- --sub <id> --org <orgId|slug|*> --permissions <a,b,...|*> [--ttl 1h]
// Prints only a signed HS256 token (for curl, Swagger UI's Authorize, local tools), signed with
// the secret the server uses locally: JWT_SECRET, or the built-in development secret when unset.
import { parseArgs } from 'node:util';
import { ALL_PERMISSIONS } from '../src/auth/permissions';
import { mintToken } from '../src/auth/token';
import { DEV_SECRET } from '../src/config/app-config';
import { ORGANIZATION_ID_PATTERN } from '../src/organizations/organization';

export const USAGE = `Usage: npm run --silent token -- --sub <id> --org <orgId|slug|*> --permissions <a,b,...|*> [--ttl 1h]

  --sub <id>             the token's subject (stored as the creator of what it queues)
  --org <id|slug|*>      an organization the token may act on; repeat it or separate with commas;
                         * = every organization (platform operators)
  --permissions <list>   comma-separated permissions, * for all, or a prefix such as mdm.windows.*
  --ttl <duration>       lifetime: seconds (3600) or 30s, 15m, 1h, 7d (default 1h)

Signs HS256 with JWT_SECRET (the built-in development secret when unset) and sets iss/aud from
JWT_ISSUER/JWT_AUDIENCE when they are set, exactly as the server checks them.`;

export class UsageError extends Error {}

export interface TokenRequest {
  subject: string;
  organizations: string[];
  permissions: string[];
  /** Seconds (number) or a jsonwebtoken duration string such as '1h'. */
  ttl: string | number;
}

type Env = Record<string, string | undefined>;

const TTL = /^(\d+)(s|m|h|d|w)?$/;
const TTL_MAX_SECONDS = 366 * 24 * 3600;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function splitList(values: string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

function knownPermission(p: string): boolean {
  if (p === '*') return true;
  if (p.endsWith('.*')) return ALL_PERMISSIONS.some((known) => known.startsWith(p.slice(0, -1)));
  return (ALL_PERMISSIONS as string[]).includes(p);
}

function parseTtl(raw: string): number {
  const m = TTL.exec(raw.trim());
  if (!m) throw new UsageError(`--ttl must look like 3600, 30s, 15m, 1h or 7d, got "${raw}"`);
  // A bare number is seconds here; jsonwebtoken would read the string "60" as milliseconds.
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] ?? 's'];
  if (seconds < 1 || seconds > TTL_MAX_SECONDS) {
    throw new UsageError(`--ttl must be between 1 second and 366 days, got "${raw}"`);
  }
  return seconds;
}

/** Parses the command line; throws UsageError with a message fit for the user. */
export function parseTokenArgs(argv: string[]): TokenRequest | 'help' {
  let values: {
    sub?: string;
    org?: string[];
    permissions?: string[];
    ttl?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        sub: { type: 'string' },
        org: { type: 'string', multiple: true },
        permissions: { type: 'string', multiple: true },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return 'help';
  const subject = values.sub?.trim();
  if (!subject) throw new UsageError('--sub <id> is required');
  const organizations = splitList(values.org ?? []);
  if (!organizations.length) throw new UsageError('--org <orgId|slug|*> is required');
  const badOrg = organizations.find((o) => o !== '*' && !ORGANIZATION_ID_PATTERN.test(o));
  if (badOrg) {
    throw new UsageError(
      `--org "${badOrg}" is neither *, a 24-hex id nor a slug (3+ letters, digits, dashes)`,
    );
  }
  const permissions = splitList(values.permissions ?? []);
  if (!permissions.length) throw new UsageError('--permissions <a,b,...|*> is required');
  const unknown = permissions.filter((p) => !knownPermission(p));
  if (unknown.length) {
    throw new UsageError(
      `unknown permission(s): ${unknown.join(', ')}\nknown: *, ${ALL_PERMISSIONS.join(', ')}`,
    );
  }
  return {
    subject,
    organizations: [...new Set(organizations)],
    permissions: [...new Set(permissions)],
    ttl: values.ttl === undefined ? '1h' : parseTtl(values.ttl),
  };
}

/** The secret, issuer and audience the server itself uses (src/config/app-config.ts). */
export function signingSettings(env: Env): { secret: string; issuer?: string; audience?: string } {
  const secret = env.JWT_SECRET || DEV_SECRET;
  if (secret.length < 16) throw new Error('JWT_SECRET must be at least 16 characters');
  return { secret, issuer: env.JWT_ISSUER || undefined, audience: env.JWT_AUDIENCE || undefined };
}

export function createToken(req: TokenRequest, env: Env): string {
  const { secret, issuer, audience } = signingSettings(env);
  return mintToken(secret, { ...req, issuer, audience });
}

function main(): number {
  let req: TokenRequest | 'help';
  try {
    req = parseTokenArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`token: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (req === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (process.env.JWT_PUBLIC_KEY || process.env.JWT_PUBLIC_KEY_FILE) {
    process.stderr.write(
      'token: warning: JWT_PUBLIC_KEY(_FILE) is set, so the server accepts only RS256/ES256 ' +
        'tokens from your identity provider; this HS256 token will be refused there.\n',
    );
  }
  try {
    process.stdout.write(`${createToken(req, process.env)}\n`);
  } catch (e) {
    process.stderr.write(`token: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}

if (require.main === module) process.exitCode = main();
