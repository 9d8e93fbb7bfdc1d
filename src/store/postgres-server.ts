import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { PostgresBinaries } from './postgres-binaries';
import { grantSearch, ownDataDir, type PostgresAccount } from './postgres-user';
import { commandLineOf, isRunning, terminate } from './processes';
import { installPushdownIndexes } from './pushdown-indexes';
import { spawnServer, type ServerProcess } from './server-process';
import type { StoreLog } from './store-log';

const run = promisify(execFile);

/** The cluster's directory inside DATA_DIR. */
export const POSTGRES_SUBDIR = 'postgres';
/** The superuser's generated password, mode 0600, beside the cluster (not inside it). */
export const POSTGRES_PASSWORD_FILE = 'postgres-password';
/** The database FerretDB keeps every MongoDB database in (one schema each). */
export const FERRETDB_PG_DATABASE = 'ferretdb';
const SUPERUSER = 'postgres';

export function postgresDataDir(dataDir: string): string {
  return join(dataDir, POSTGRES_SUBDIR);
}

/** The major version of the cluster in `dataDir`, or undefined when there is none yet. */
export function clusterMajor(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(join(postgresDataDir(dataDir), 'PG_VERSION'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/**
 * The generated superuser password: the cluster accepts only password (SCRAM) logins, on
 * 127.0.0.1 only, so another local user cannot connect without reading this 0600 file.
 */
async function password(dataDir: string): Promise<string> {
  const path = join(dataDir, POSTGRES_PASSWORD_FILE);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    const generated = randomBytes(24).toString('base64url');
    await writeFile(path, `${generated}\n`, { mode: 0o600, flag: 'wx' });
    return generated;
  }
}

/** Creates the cluster the first time (initdb); a later start finds PG_VERSION and skips it. */
async function ensureCluster(
  bin: PostgresBinaries,
  dataDir: string,
  account: PostgresAccount | undefined,
  secret: string,
  log: StoreLog,
): Promise<void> {
  const pgData = postgresDataDir(dataDir);
  await mkdir(pgData, { recursive: true });
  await ownDataDir(pgData, account);
  if (account) {
    await grantSearch(pgData, account, log);
    await grantSearch(bin.binDir, account, log);
  }
  if (existsSync(join(pgData, 'PG_VERSION'))) return;

  const started = Date.now();
  // initdb reads the password from a file the account can read; it is removed at once.
  const pwfile = join(pgData, '..', `.${POSTGRES_PASSWORD_FILE}.initdb-${process.pid}`);
  await writeFile(pwfile, `${secret}\n`, { mode: 0o600 });
  try {
    if (account) await chown(pwfile, account.uid, account.gid);
    await run(
      join(bin.binDir, 'initdb'),
      [
        `--pgdata=${pgData}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C', // present everywhere; FerretDB compares in Go, not with collations
      ],
      { uid: account?.uid, gid: account?.gid, cwd: '/', timeout: 120_000 },
    );
  } catch (error) {
    await rm(pgData, { recursive: true, force: true }); // so the next start runs initdb again
    throw new Error(`initdb failed: ${(error as Error).message}`);
  } finally {
    await rm(pwfile, { force: true });
  }
  await chmod(pgData, 0o700);
  log(`created a PostgreSQL ${bin.major} cluster in ${pgData} in ${Date.now() - started} ms`);
}

/**
 * Server settings for a small box and this workload (on the command line, so every start
 * applies the current ones): loopback TCP only, no Unix socket, fsync on (the default).
 */
function settings(port: number): string[] {
  const set = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
    // See pushdown-indexes.ts: a generic plan for `_jsonb->$1 @> $2` cannot use the GIN twins.
    plan_cache_mode: 'force_custom_plan',
    shared_buffers: '128MB',
    effective_cache_size: '512MB',
    work_mem: '8MB',
    maintenance_work_mem: '64MB',
    max_connections: '50',
    // Short queries on 2 cores: parallel workers and JIT only add latency (and JIT may be absent).
    max_parallel_workers_per_gather: '0',
    jit: 'off',
    fsync: 'on',
    // synchronous_commit stays on: with it off, a SIGKILL of PostgreSQL lost an acknowledged
    // insert even after its WAL was reported flushed (postgres-store.spec; decisions.md §45).
    wal_level: 'minimal',
    max_wal_senders: '0',
    log_min_messages: 'warning',
    log_line_prefix: '%m [%p] ',
  };
  return Object.entries(set).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}

export interface RunningPostgres {
  server: ServerProcess;
  port: number;
  /** For FerretDB's --postgresql-url (passed in its environment: argv is world-readable). */
  url: string;
}

export interface StartPostgresOptions {
  bin: PostgresBinaries;
  dataDir: string;
  port: number;
  account: PostgresAccount | undefined;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  log: StoreLog;
}

/**
 * Starts PostgreSQL on the cluster in `dataDir` (creating it first if needed), waits until it
 * accepts logins, and makes sure FerretDB's database and the pushdown indexes' trigger exist.
 */
export async function startPostgres(o: StartPostgresOptions): Promise<RunningPostgres> {
  const secret = await password(o.dataDir);
  await ensureCluster(o.bin, o.dataDir, o.account, secret, o.log);
  const pgData = postgresDataDir(o.dataDir);
  const server = spawnServer(
    join(o.bin.binDir, 'postgres'),
    ['-D', pgData, ...settings(o.port)],
    { ...o.env, LC_ALL: 'C' },
    { uid: o.account?.uid, gid: o.account?.gid, cwd: pgData, stopSignal: 'SIGINT' },
  );
  const connection = {
    host: '127.0.0.1',
    port: o.port,
    user: SUPERUSER,
    password: secret,
    connectionTimeoutMillis: 2_000,
  };
  try {
    await untilAccepting(
      server,
      { ...connection, database: 'postgres' },
      o.timeoutMs,
      async (c) => {
        const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [
          FERRETDB_PG_DATABASE,
        ]);
        if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${FERRETDB_PG_DATABASE}`);
      },
    );
    const client = new Client({ ...connection, database: FERRETDB_PG_DATABASE });
    await client.connect();
    try {
      await installPushdownIndexes(client);
    } finally {
      await client.end();
    }
  } catch (error) {
    await server.stop(5_000);
    // The caller reads the output: "Address already in use" means another port may work.
    throw Object.assign(error as Error, { output: server.output() });
  }
  const url =
    `postgres://${SUPERUSER}:${encodeURIComponent(secret)}@127.0.0.1:${o.port}/` +
    FERRETDB_PG_DATABASE;
  return { server, port: o.port, url };
}

async function untilAccepting(
  server: ServerProcess,
  config: ConstructorParameters<typeof Client>[0],
  timeoutMs: number,
  then: (client: Client) => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (!server.hasExited()) {
    if (Date.now() > deadline) {
      throw new Error(
        `PostgreSQL did not accept logins within ${timeoutMs / 1000} s: ${String(lastError)}`,
      );
    }
    const client = new Client(config);
    client.on('error', () => undefined); // a refused or reset connection is retried below
    try {
      await client.connect();
      await then(client);
      return;
    } catch (error) {
      lastError = error;
      await Promise.race([sleep(100), server.exited]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const { code, signal } = await server.exited;
  throw new Error(`PostgreSQL exited during start-up (code ${code}, signal ${signal})`);
}

/**
 * Stops a postmaster a killed predecessor left running on this cluster (postmaster.pid names
 * it; PostgreSQL would otherwise refuse to start): SIGINT, its fast shutdown, then SIGKILL.
 */
export async function stopLeftoverPostgres(dataDir: string, log: StoreLog): Promise<void> {
  const pgData = postgresDataDir(dataDir);
  let pid: number;
  try {
    pid = Number((await readFile(join(pgData, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return;
  const argv = commandLineOf(pid);
  if (!argv?.some((arg, i) => arg === '-D' && argv[i + 1] === pgData)) return;
  log(`stopping PostgreSQL (pid ${pid}) left running on ${pgData} by a mullion process that ended`);
  if (!(await terminate(pid, 30_000, 'SIGINT'))) {
    throw new Error(
      `PostgreSQL (pid ${pid}) on ${pgData} does not stop; kill -9 ${pid} and start again.`,
    );
  }
}

/**
 * How to reach the running cluster of `dataDir` as its superuser, for FerretDB's database (its
 * port from postmaster.pid, line 4): for inspection with psql and for tests.
 */
export async function postgresConnection(dataDir: string): Promise<{
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}> {
  const pid = await readFile(join(postgresDataDir(dataDir), 'postmaster.pid'), 'utf8');
  return {
    host: '127.0.0.1',
    port: Number(pid.split('\n')[3]),
    user: SUPERUSER,
    password: await password(dataDir),
    database: FERRETDB_PG_DATABASE,
  };
}
