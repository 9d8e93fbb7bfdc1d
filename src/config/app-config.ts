import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { generateMasterKey, MasterKeyError, parseMasterKey } from '../pki/key-vault';

/** Typed, validated configuration. Built once from the environment at boot. */
export interface AppConfig {
  nodeEnv: string;
  host: string;
  port: number;
  mongodbUri?: string;
  dataDir: string;
  store: StoreConfig;
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
    /**
     * Finished commands (any final status) older than this many days are deleted by the
     * retention job (commands/command-retention.job.ts); 0 keeps them forever.
     */
    historyRetentionDays: number;
  };
  bodyLimit: string;
  /** Deepest nesting of arrays and objects a JSON body may have (checked before parsing). */
  jsonMaxDepth: number;
  logRequests: boolean;
  /** The device-facing HTTPS listener (management; enrollment). */
  device: {
    /** null: no device listener. 0: a free port (tests). */
    port: number | null;
    host: string;
    tlsCertFile?: string;
    tlsKeyFile?: string;
    /** Behind a TLS-terminating proxy: the header carrying the URL-encoded client PEM. */
    clientCertHeader?: string;
    /** Proxy addresses allowed to send that header. */
    trustedProxies: string[];
    /** Base URL devices use (management and enrollment URLs are built from it). */
    publicBaseUrl: string;
  };
  syncml: {
    bodyLimitBytes: number;
    maxCommandsPerMessage: number;
    /** Budget when the device sends no MaxMsgSize. */
    defaultMaxMsgSize: number;
    maxDeliveryAttempts: number;
    lockMs: number;
    lastSeenIntervalMs: number;
    /** How long a command answered 101, or an Exec answered 202, waits for its final outcome. */
    asyncResultTimeoutMs: number;
    /** Admission of management messages (SessionGate, decisions.md §50). */
    maxConcurrent: number;
    maxQueued: number;
    maxQueueWaitMs: number;
    busyRetryAfterSeconds: number;
    /**
     * A message not answered within this is answered 503 and gives its place in the gate back
     * (a store call that never settles, decisions.md §50).
     */
    messageDeadlineMs: number;
  };
  enrollment: EnrollmentConfig;
  push: PushConfig;
  /** Administrator unenrollment (the PC is told to leave, then confirms or times out). */
  unenroll: {
    /** How long a device stays `unenrolling` before it is unenrolled without its confirmation. */
    timeoutMs: number;
  };
  webhooks: WebhooksConfig;
  profiles: ProfilesConfig;
  profileReconcile: ProfileReconcileConfig;
}

/** Configuration profiles (issue 11). */
export interface ProfilesConfig {
  /** Largest setting value, in UTF-8 bytes (ADMX ingestion XML runs to tens of KiB). */
  valueMaxBytes: number;
  maxSettings: number;
  /** Run the background planner in this instance (plans are shared through leases). */
  planner: boolean;
  /** Devices one planner batch handles (one write round per batch; progress stored after it). */
  planBatchSize: number;
  planPollIntervalMs: number;
  planLeaseMs: number;
  /** The maintained target counts are recounted from the devices this often (drift repair). */
  targetRecountIntervalMs: number;
  /** Give legacy devices and assignments their planning partition in the background (§51). */
  partitionBackfill: boolean;
  /** Documents one backfill write handles (one bulk write of conditional updates). */
  partitionBackfillBatch: number;
}

function loadProfilesConfig(env: Env): ProfilesConfig {
  return {
    valueMaxBytes: int(env, 'PROFILE_VALUE_MAX_BYTES', 256 * 1024, 1, 16 * 1024 * 1024),
    maxSettings: int(env, 'PROFILE_MAX_SETTINGS', 500, 1, 999),
    planner: bool(env, 'PROFILE_PLANNER', true),
    planBatchSize: int(env, 'PROFILE_PLAN_BATCH_SIZE', 1000, 1, 10_000),
    planPollIntervalMs: int(env, 'PROFILE_PLAN_POLL_INTERVAL_MS', 1000, 10, 600_000),
    planLeaseMs: int(env, 'PROFILE_PLAN_LEASE_MS', 60_000, 1000, 3_600_000),
    targetRecountIntervalMs:
      int(env, 'PROFILE_TARGET_RECOUNT_INTERVAL_SECONDS', 86_400, 60, 365 * 86_400) * 1000,
    partitionBackfill: bool(env, 'PROFILE_PARTITION_BACKFILL', true),
    partitionBackfillBatch: int(env, 'PROFILE_PARTITION_BACKFILL_BATCH', 500, 1, 10_000),
  };
}

/** Profiles: delivery, verification and drift checks of assignments (issue 11). */
export interface ProfileReconcileConfig {
  /** Run the reconcile worker in this instance (instances share the work through leases). */
  worker: boolean;
  pollIntervalMs: number;
  /** A verified setting is read back again this long after its last verification. */
  verifyIntervalMs: number;
  /**
   * An open batch is re-derived from its commands this long after it was last looked at (the
   * repair for an outcome notification lost to a crash); also the lease of a claim.
   */
  sweepMs: number;
  /** Assignments one pass takes at most. */
  batchSize: number;
  /**
   * Planning buckets (of 4,096) one pass reads for due drift checks: a full walk takes
   * 4,096 / bucketsPerPass passes, the most a due check waits (decisions.md §53).
   */
  bucketsPerPass: number;
}

/** Outbound webhooks (issue 12). */
export interface WebhooksConfig {
  /** Run the relay and dispatcher in this instance (several instances share the work). */
  worker: boolean;
  pollIntervalMs: number;
  /** http:// URLs (local development only); https otherwise. */
  allowHttp: boolean;
  /** URLs resolving to loopback, private, link-local or unspecified addresses (tests, local use). */
  allowPrivateAddresses: boolean;
  /** Extra CA certificate(s) trusted for receivers, PEM (a local receiver's self-signed cert). */
  tlsCaPem?: string;
  timeoutMs: number;
  responseLimitBytes: number;
  retryBaseMs: number;
  retryMaxDelayMs: number;
  /** A delivery still failing this long after its event is dead. */
  maxAgeMs: number;
  /** A subscription failing continuously this long is disabled. */
  disableAfterMs: number;
  leaseMs: number;
  concurrency: number;
  /** Default grace period of the old secret after a rotation. */
  secretGraceMs: number;
}

function loadWebhooksConfig(env: Env): WebhooksConfig {
  const timeoutMs = int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000);
  const leaseMs = int(env, 'WEBHOOK_LEASE_MS', 60_000, 1000, 3_600_000);
  // A lease shorter than a send would let a second instance take a delivery still in flight.
  if (leaseMs <= timeoutMs)
    throw new ConfigError('WEBHOOK_LEASE_MS must exceed WEBHOOK_TIMEOUT_MS');
  const caFile = env.WEBHOOK_TLS_CA_FILE;
  return {
    worker: bool(env, 'WEBHOOK_WORKER', true),
    pollIntervalMs: int(env, 'WEBHOOK_POLL_INTERVAL_MS', 1000, 10, 600_000),
    allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', false),
    allowPrivateAddresses: bool(env, 'WEBHOOK_ALLOW_PRIVATE_ADDRESSES', false),
    tlsCaPem: caFile ? readFileSync(caFile, 'utf8') : undefined,
    timeoutMs,
    responseLimitBytes: int(env, 'WEBHOOK_RESPONSE_LIMIT_BYTES', 64 * 1024, 0, 16 * 1024 * 1024),
    retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 30_000, 10, 3_600_000),
    retryMaxDelayMs: int(env, 'WEBHOOK_RETRY_MAX_DELAY_MS', 3_600_000, 10, 86_400_000),
    maxAgeMs: int(env, 'WEBHOOK_MAX_AGE_SECONDS', 86_400, 1, 30 * 86_400) * 1000,
    disableAfterMs: int(env, 'WEBHOOK_DISABLE_AFTER_SECONDS', 3 * 86_400, 1, 90 * 86_400) * 1000,
    leaseMs,
    concurrency: int(env, 'WEBHOOK_CONCURRENCY', 8, 1, 256),
    secretGraceMs: int(env, 'WEBHOOK_SECRET_GRACE_SECONDS', 86_400, 0, 30 * 86_400) * 1000,
  };
}

/**
 * WNS wake-up (management-session.md §7). Off (`enabled: false`) without a package SID and
 * secret: queued commands then wait for the device's next scheduled poll.
 */
export interface PushConfig {
  enabled: boolean;
  /** `ms-app://S-1-15-2-…`: the OAuth client_id. */
  packageSid?: string;
  clientSecret?: SecretBytes;
  /** WNS's OAuth token endpoint (configurable so tests use a local fake). */
  tokenUrl: string;
  /** DMClient Push/PFN: the Package Family Name of the app registered for push. */
  pfn?: string;
  /**
   * Channel URIs come from devices: only https on these host suffixes is pushed to (our bearer
   * token must not be sent anywhere a device names), plus these exact origins (tests).
   */
  channelHostSuffixes: string[];
  extraChannelOrigins: string[];
  /** Delays between attempts of one push; its length bounds the retries. */
  retryDelaysMs: number[];
  /** A stored channel older than this is read again at the next session start. */
  channelRefreshMs: number;
}

/** Keeping the store reachable, and failing fast when it is not (docs/decisions.md). */
export interface StoreConfig {
  /**
   * STORE_ENGINE: what the embedded FerretDB keeps its data in (the launcher reads the same
   * variable; validated here so a typo stops the server at boot). Unused with MONGODB_URI.
   */
  engine: 'postgres' | 'sqlite';
  /** Restarts of a dead embedded store tolerated within the window before the server exits 1. */
  maxRestarts: number;
  restartWindowMs: number;
  /** Backoff before the first restart, doubled per restart in the window, capped. */
  restartBackoffMs: number;
  restartMaxBackoffMs: number;
  /** The driver's server selection: how long an operation waits for an unreachable store. */
  serverSelectionTimeoutMs: number;
}

/** MS-MDE2 enrollment (issue 4). */
export interface EnrollmentConfig {
  /** Seals the enterprise CA keys (AES-256-GCM). Never logged: see SecretBytes. */
  masterKey: SecretBytes;
  /** w7 PROVIDER-ID and DMClient provider node name (must stay stable for enrolled devices). */
  providerId: string;
  /** w7 NAME shown to the user; defaults to the enterprise name. */
  displayName?: string;
  caKeyBits: 2048 | 3072 | 4096;
  certValidityDays: number;
  /**
   * CertificateStore WSTEP/Renew RenewPeriod: days before expiry from which the device renews
   * (1..validity-1; docs recommend 40-60 for a one-year certificate, enrollment.md §9).
   */
  renewPeriodDays: number;
  /** WSTEP/Renew RetryInterval: days between renewal attempts that failed (1..RenewPeriod). */
  renewRetryIntervalDays: number;
  /** Hard cap on SOAP request bodies (requests are ~1-5 KB). */
  bodyLimitBytes: number;
  /** Invitation lifetime bounds and default, in seconds. */
  tokenMinTtlSeconds: number;
  tokenMaxTtlSeconds: number;
  tokenDefaultTtlSeconds: number;
  /**
   * Failed authentications tolerated per username and per source IP within the window; beyond
   * them failures are answered only as a wrong password, while correct credentials always pass.
   * Per IP is higher: offices enroll from behind one NAT address.
   */
  maxFailuresPerUser: number;
  maxFailuresPerIp: number;
  failureWindowMs: number;
  /** HTTP status of SOAP faults: 500 (SOAP 1.2 HTTP binding, WCF) or 200 (Fleet). */
  faultHttpStatus: 200 | 500;
}

/** Key material that does not print itself (JSON, console.log, util.inspect). */
export class SecretBytes {
  readonly #bytes: Buffer;
  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }
  reveal(): Buffer {
    return this.#bytes;
  }
  toJSON(): string {
    return '[secret]';
  }
  toString(): string {
    return '[secret]';
  }
  [inspect.custom](): string {
    return '[secret]';
  }
}

export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, key: string, def: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${key} must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max)
    throw new ConfigError(`${key} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, key: string, def: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

function storeEngine(env: Env): StoreConfig['engine'] {
  const value = env.STORE_ENGINE?.trim() || 'postgres';
  if (value !== 'postgres' && value !== 'sqlite') {
    throw new ConfigError(`STORE_ENGINE must be postgres or sqlite, got "${value}"`);
  }
  return value;
}

function readPublicKey(env: Env): string | undefined {
  if (env.JWT_PUBLIC_KEY) return env.JWT_PUBLIC_KEY.replace(/\\n/g, '\n');
  if (env.JWT_PUBLIC_KEY_FILE) return readFileSync(env.JWT_PUBLIC_KEY_FILE, 'utf8');
  return undefined;
}

function loadDeviceConfig(env: Env): AppConfig['device'] {
  const rawPort = env.DEVICE_PORT?.trim();
  const port = rawPort === 'off' ? null : int(env, 'DEVICE_PORT', 8443, 0, 65535);
  const host = env.DEVICE_HOST ?? '127.0.0.1';
  const header = env.DEVICE_CLIENT_CERT_HEADER?.trim().toLowerCase() || undefined;
  if (header && !/^[a-z0-9-]+$/.test(header)) {
    throw new ConfigError('DEVICE_CLIENT_CERT_HEADER must be an HTTP header name');
  }
  const trustedProxies = (env.DEVICE_TRUSTED_PROXIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (header && !trustedProxies.length) {
    throw new ConfigError(
      'DEVICE_CLIENT_CERT_HEADER needs DEVICE_TRUSTED_PROXIES (the proxy addresses)',
    );
  }
  if (
    (env.DEVICE_TLS_CERT_FILE && !env.DEVICE_TLS_KEY_FILE) ||
    (!env.DEVICE_TLS_CERT_FILE && env.DEVICE_TLS_KEY_FILE)
  ) {
    throw new ConfigError('DEVICE_TLS_CERT_FILE and DEVICE_TLS_KEY_FILE go together');
  }
  const publicBaseUrl = (
    env.PUBLIC_BASE_URL ?? `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port ?? 8443}`
  ).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+$/.test(publicBaseUrl)) {
    throw new ConfigError('PUBLIC_BASE_URL must be scheme://host[:port] without a path');
  }
  return {
    port,
    host,
    tlsCertFile: env.DEVICE_TLS_CERT_FILE || undefined,
    tlsKeyFile: env.DEVICE_TLS_KEY_FILE || undefined,
    clientCertHeader: header,
    trustedProxies,
    publicBaseUrl,
  };
}

/**
 * MASTER_KEY from the environment; else (outside production) `<dataDir>/master.key`, generated
 * once with mode 0600. Production must set MASTER_KEY: a key next to the data it protects is a
 * convenience for local runs, not a protection.
 */
function loadMasterKey(
  env: Env,
  nodeEnv: string,
  dataDir: string,
): Pick<EnrollmentConfig, 'masterKey'> {
  try {
    if (env.MASTER_KEY?.trim()) {
      return { masterKey: new SecretBytes(parseMasterKey(env.MASTER_KEY)) };
    }
    if (nodeEnv === 'production') {
      throw new ConfigError(
        'MASTER_KEY is required when NODE_ENV=production (generate one: openssl rand -base64 32)',
      );
    }
    const file = join(dataDir, 'master.key');
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      // 'wx': never overwrite a key another process wrote meanwhile (it seals existing CA keys).
      try {
        writeFileSync(file, `${generateMasterKey()}\n`, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      chmodSync(file, 0o600);
    }
    return {
      masterKey: new SecretBytes(parseMasterKey(readFileSync(file, 'utf8'), file)),
    };
  } catch (e) {
    if (e instanceof MasterKeyError) throw new ConfigError(e.message);
    throw e;
  }
}

function loadEnrollmentConfig(env: Env, nodeEnv: string, dataDir: string): EnrollmentConfig {
  const providerId = env.ENROLLMENT_PROVIDER_ID?.trim() || 'mullion';
  // A registry key name on the device (DMClient/Provider/<id>) and a w7 parm value.
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(providerId)) {
    throw new ConfigError(
      'ENROLLMENT_PROVIDER_ID must be 1-64 letters, digits, dots, dashes or underscores',
    );
  }
  const displayName = env.ENROLLMENT_DISPLAY_NAME?.trim() || undefined;
  if (displayName && displayName.length > 100)
    throw new ConfigError('ENROLLMENT_DISPLAY_NAME must be at most 100 characters');
  const caKeyBits = int(env, 'ENROLLMENT_CA_KEY_BITS', 3072, 2048, 4096);
  if (caKeyBits !== 2048 && caKeyBits !== 3072 && caKeyBits !== 4096) {
    throw new ConfigError('ENROLLMENT_CA_KEY_BITS must be 2048, 3072 or 4096');
  }
  const tokenMinTtlSeconds = 60;
  const tokenMaxTtlSeconds = int(
    env,
    'ENROLLMENT_TOKEN_MAX_TTL_SECONDS',
    30 * 86400,
    3600,
    365 * 86400,
  );
  const tokenDefaultTtlSeconds = int(
    env,
    'ENROLLMENT_TOKEN_DEFAULT_TTL_SECONDS',
    7 * 86400,
    tokenMinTtlSeconds,
    365 * 86400,
  );
  if (tokenDefaultTtlSeconds > tokenMaxTtlSeconds) {
    throw new ConfigError(
      'ENROLLMENT_TOKEN_DEFAULT_TTL_SECONDS must not exceed ENROLLMENT_TOKEN_MAX_TTL_SECONDS',
    );
  }
  const faultHttpStatus = int(env, 'ENROLLMENT_FAULT_HTTP_STATUS', 500, 200, 500);
  if (faultHttpStatus !== 200 && faultHttpStatus !== 500) {
    throw new ConfigError('ENROLLMENT_FAULT_HTTP_STATUS must be 200 or 500');
  }
  const certValidityDays = int(env, 'ENROLLMENT_CERT_VALIDITY_DAYS', 365, 1, 3650);
  if (certValidityDays < 2) {
    throw new ConfigError(
      'ENROLLMENT_CERT_VALIDITY_DAYS must be at least 2 (renewal needs a window)',
    );
  }
  // 42 days (the CertificateStore CSP default) for validities of 84 days and more, else half.
  const renewPeriodDays = int(
    env,
    'ENROLLMENT_RENEW_PERIOD_DAYS',
    Math.min(42, Math.floor(certValidityDays / 2)),
    1,
    1000,
  );
  if (renewPeriodDays >= certValidityDays) {
    throw new ConfigError(
      'ENROLLMENT_RENEW_PERIOD_DAYS must be less than ENROLLMENT_CERT_VALIDITY_DAYS',
    );
  }
  const renewRetryIntervalDays = int(
    env,
    'ENROLLMENT_RENEW_RETRY_DAYS',
    Math.min(4, renewPeriodDays),
    1,
    1000,
  );
  if (renewRetryIntervalDays > renewPeriodDays) {
    throw new ConfigError(
      'ENROLLMENT_RENEW_RETRY_DAYS must not exceed ENROLLMENT_RENEW_PERIOD_DAYS',
    );
  }
  return {
    ...loadMasterKey(env, nodeEnv, dataDir),
    providerId,
    displayName,
    caKeyBits,
    certValidityDays,
    renewPeriodDays,
    renewRetryIntervalDays,
    bodyLimitBytes: int(env, 'ENROLLMENT_BODY_LIMIT_BYTES', 64 * 1024, 4096, 64 * 1024),
    tokenMinTtlSeconds,
    tokenMaxTtlSeconds,
    tokenDefaultTtlSeconds,
    maxFailuresPerUser: int(env, 'ENROLLMENT_MAX_FAILURES_PER_USER', 10, 1, 100000),
    maxFailuresPerIp: int(env, 'ENROLLMENT_MAX_FAILURES_PER_IP', 50, 1, 100000),
    failureWindowMs: int(env, 'ENROLLMENT_FAILURE_WINDOW_SECONDS', 900, 1, 86400) * 1000,
    faultHttpStatus,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const DEV_SECRET = 'mullion-local-development-secret-change-me';

export function loadConfig(rawEnv: Env = process.env): AppConfig {
  // An empty variable (HOST= in a .env file) means "not set", never "empty": an empty HOST
  // would make Node listen on every interface.
  const env: Env = Object.fromEntries(
    Object.entries(rawEnv).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const nodeEnv = env.NODE_ENV ?? 'development';
  const publicKey = readPublicKey(env);
  let secret = env.JWT_SECRET;
  if (!secret && !publicKey) {
    if (nodeEnv === 'production') {
      throw new ConfigError(
        'JWT_SECRET or JWT_PUBLIC_KEY(_FILE) is required when NODE_ENV=production',
      );
    }
    // The development secret is public (it is in this repository): it only ever signs tokens
    // for a server nobody else can reach.
    const exposed = [env.HOST, env.DEVICE_HOST].filter((h) => h !== undefined && !isLoopback(h));
    if (exposed.length) {
      throw new ConfigError(
        `JWT_SECRET (or JWT_PUBLIC_KEY) is required when listening beyond loopback (${exposed.join(', ')})`,
      );
    }
    secret = DEV_SECRET;
  }
  if (secret && secret.length < 16)
    throw new ConfigError('JWT_SECRET must be at least 16 characters');
  const algorithms: JwtAlgorithm[] = publicKey
    ? (['RS256', 'ES256'] as JwtAlgorithm[])
    : (['HS256'] as JwtAlgorithm[]);
  const uri = env.MONGODB_URI?.trim() || undefined;
  if (uri && !/^mongodb(\+srv)?:\/\//.test(uri)) {
    throw new ConfigError('MONGODB_URI must start with mongodb:// or mongodb+srv://');
  }
  const dataDir = env.DATA_DIR ?? './data';
  return {
    nodeEnv,
    host: env.HOST ?? '127.0.0.1',
    port: int(env, 'PORT', 3000, 0, 65535),
    mongodbUri: uri,
    dataDir,
    store: {
      engine: storeEngine(env),
      maxRestarts: int(env, 'STORE_MAX_RESTARTS', 5, 0, 1000),
      restartWindowMs: int(env, 'STORE_RESTART_WINDOW_SECONDS', 60, 1, 86400) * 1000,
      restartBackoffMs: int(env, 'STORE_RESTART_BACKOFF_MS', 250, 0, 60000),
      restartMaxBackoffMs: int(env, 'STORE_RESTART_MAX_BACKOFF_MS', 5000, 0, 600000),
      serverSelectionTimeoutMs: int(env, 'MONGODB_SERVER_SELECTION_TIMEOUT_MS', 2000, 100, 60000),
    },
    jwt: {
      secret: publicKey ? undefined : secret,
      publicKey,
      algorithms,
      issuer: env.JWT_ISSUER || undefined,
      audience: env.JWT_AUDIENCE || undefined,
    },
    commands: {
      maxPerBatch: int(env, 'COMMANDS_MAX_PER_BATCH', 100, 1, 10000),
      historyRetentionDays: int(env, 'COMMAND_HISTORY_RETENTION_DAYS', 0, 0, 36500),
    },
    bodyLimit: env.BODY_LIMIT ?? '1mb',
    jsonMaxDepth: int(env, 'JSON_MAX_DEPTH', 64, 4, 1000),
    logRequests: bool(env, 'LOG_REQUESTS', true),
    device: loadDeviceConfig(env),
    syncml: {
      bodyLimitBytes: int(env, 'SYNCML_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      maxCommandsPerMessage: int(env, 'SYNCML_MAX_COMMANDS_PER_MESSAGE', 50, 1, 1000),
      defaultMaxMsgSize: int(env, 'SYNCML_DEFAULT_MAX_MSG_SIZE', 65536, 2048, 16 * 1024 * 1024),
      maxDeliveryAttempts: int(env, 'SYNCML_MAX_DELIVERY_ATTEMPTS', 3, 1, 100),
      lockMs: int(env, 'SYNCML_LOCK_MS', 30000, 1000, 600000),
      lastSeenIntervalMs: int(env, 'DEVICE_LAST_SEEN_INTERVAL_SECONDS', 300, 0, 86400) * 1000,
      maxConcurrent: int(env, 'SYNCML_MAX_CONCURRENT', 16, 1, 10000),
      maxQueued: int(env, 'SYNCML_MAX_QUEUED', 1000, 0, 1000000),
      maxQueueWaitMs: int(env, 'SYNCML_MAX_QUEUE_WAIT_SECONDS', 15, 1, 600) * 1000,
      busyRetryAfterSeconds: int(env, 'SYNCML_BUSY_RETRY_AFTER_SECONDS', 30, 1, 3600),
      messageDeadlineMs: int(env, 'SYNCML_MESSAGE_DEADLINE_SECONDS', 60, 1, 3600) * 1000,
      asyncResultTimeoutMs:
        int(env, 'SYNCML_ASYNC_RESULT_TIMEOUT_SECONDS', 86400, 1, 30 * 86400) * 1000,
    },
    enrollment: loadEnrollmentConfig(env, nodeEnv, dataDir),
    push: loadPushConfig(env),
    unenroll: { timeoutMs: int(env, 'UNENROLL_TIMEOUT_SECONDS', 7 * 86400, 1, 365 * 86400) * 1000 },
    webhooks: loadWebhooksConfig(env),
    profiles: loadProfilesConfig(env),
    profileReconcile: {
      worker: bool(env, 'PROFILE_RECONCILE_WORKER', true),
      pollIntervalMs: int(env, 'PROFILE_RECONCILE_POLL_INTERVAL_MS', 2000, 10, 600_000),
      verifyIntervalMs: int(env, 'PROFILE_VERIFY_INTERVAL_SECONDS', 86_400, 1, 365 * 86_400) * 1000,
      sweepMs: int(env, 'PROFILE_RECONCILE_SWEEP_SECONDS', 3600, 1, 7 * 86_400) * 1000,
      batchSize: int(env, 'PROFILE_RECONCILE_BATCH', 200, 1, 10_000),
      bucketsPerPass: int(env, 'PROFILE_RECONCILE_BUCKETS_PER_PASS', 16, 1, 4096),
    },
  };
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function loadPushConfig(env: Env): PushConfig {
  const packageSid = env.WNS_PACKAGE_SID?.trim();
  const secret = env.WNS_CLIENT_SECRET?.trim();
  if (!!packageSid !== !!secret) {
    throw new ConfigError('WNS_PACKAGE_SID and WNS_CLIENT_SECRET are set together or not at all');
  }
  const tokenUrl = env.WNS_TOKEN_URL?.trim() || 'https://login.live.com/accesstoken.srf';
  // The client secret is posted there: https, or http only to this machine (a local fake WNS).
  let token: URL;
  try {
    token = new URL(tokenUrl);
  } catch {
    throw new ConfigError('WNS_TOKEN_URL must be an https URL');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(token.hostname);
  if (token.protocol !== 'https:' && !(token.protocol === 'http:' && loopback)) {
    throw new ConfigError('WNS_TOKEN_URL must be an https URL (http only on loopback)');
  }
  const extraChannelOrigins = list(env.WNS_EXTRA_CHANNEL_ORIGINS).map((o) => {
    try {
      return new URL(o).origin;
    } catch {
      throw new ConfigError(`WNS_EXTRA_CHANNEL_ORIGINS: "${o}" is not a URL`);
    }
  });
  const delays = list(env.WNS_RETRY_DELAYS_MS ?? '1000,5000,30000').map((d) => {
    if (!/^\d+$/.test(d) || Number(d) > 600000) {
      throw new ConfigError(`WNS_RETRY_DELAYS_MS: "${d}" is not a delay in ms (0-600000)`);
    }
    return Number(d);
  });
  if (delays.length > 10) throw new ConfigError('WNS_RETRY_DELAYS_MS: at most 10 retries');
  return {
    enabled: !!packageSid,
    packageSid: packageSid || undefined,
    clientSecret: secret ? new SecretBytes(Buffer.from(secret, 'utf8')) : undefined,
    tokenUrl,
    pfn: env.WNS_PFN?.trim() || undefined,
    channelHostSuffixes: list(env.WNS_CHANNEL_HOST_SUFFIXES ?? '.notify.windows.com'),
    extraChannelOrigins,
    retryDelaysMs: delays,
    channelRefreshMs: int(env, 'WNS_CHANNEL_REFRESH_SECONDS', 86400, 0, 30 * 86400) * 1000,
  };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
export { DEV_SECRET };
