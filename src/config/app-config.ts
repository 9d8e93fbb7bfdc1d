import { readFileSync } from 'node:fs';

/** Typed, validated configuration. Built once from the environment at boot. */
export interface AppConfig {
  nodeEnv: string;
  host: string;
  port: number;
  mongodbUri?: string;
  dataDir: string;
  jwt: {
    /** HS256 secret (local use). */
    secret?: string;
    /** RS256/ES256 public key (PEM) for production; when set, HS256 is not accepted. */
    publicKey?: string;
    algorithms: JwtAlgorithm[];
    issuer?: string;
    audience?: string;
  };
  commands: {
    maxPerBatch: number;
  };
  bodyLimit: string;
  logRequests: boolean;
}

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, key: string, def: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${key} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, key: string, def: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

function readPublicKey(env: Env): string | undefined {
  if (env.JWT_PUBLIC_KEY) return env.JWT_PUBLIC_KEY.replace(/\\n/g, '\n');
  if (env.JWT_PUBLIC_KEY_FILE) return readFileSync(env.JWT_PUBLIC_KEY_FILE, 'utf8');
  return undefined;
}

const DEV_SECRET = 'mullion-local-development-secret-change-me';

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const publicKey = readPublicKey(env);
  let secret = env.JWT_SECRET;
  if (!secret && !publicKey) {
    if (nodeEnv === 'production') {
      throw new ConfigError('JWT_SECRET or JWT_PUBLIC_KEY(_FILE) is required when NODE_ENV=production');
    }
    secret = DEV_SECRET;
  }
  if (secret && secret.length < 16) throw new ConfigError('JWT_SECRET must be at least 16 characters');
  const algorithms: JwtAlgorithm[] = publicKey
    ? (['RS256', 'ES256'] as JwtAlgorithm[])
    : (['HS256'] as JwtAlgorithm[]);
  const uri = env.MONGODB_URI?.trim() || undefined;
  if (uri && !/^mongodb(\+srv)?:\/\//.test(uri)) {
    throw new ConfigError('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  return {
    nodeEnv,
    host: env.HOST ?? '127.0.0.1',
    port: int(env, 'PORT', 3000, 0, 65535),
    mongodbUri: uri,
    dataDir: env.DATA_DIR ?? './data',
    jwt: {
      secret: publicKey ? undefined : secret,
      publicKey,
      algorithms,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
    },
    commands: { maxPerBatch: int(env, 'COMMANDS_MAX_PER_BATCH', 100, 1, 10000) },
    bodyLimit: env.BODY_LIMIT ?? '1mb',
    logRequests: bool(env, 'LOG_REQUESTS', true),
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
export { DEV_SECRET };
