import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { lockDataDir } from './data-dir-lock';
import { freeLoopbackPort } from './free-port';
import { forgetServer, recordServer, stopLeftoverServer } from './leftover-server';
import { withDatabase } from './mongo-uri';
import type { PostgresBinaries } from './postgres-binaries';
import { pairedWithPostgres, startPostgresOnFreePort } from './postgres-pair';
import { stopLeftoverPostgres } from './postgres-server';
import { postgresAccount, type PostgresAccount } from './postgres-user';
import {
  locateServer,
  serverArgs,
  serverEnv,
  type FerretdbBackend,
  type StoreKind,
} from './server-binary';
import { ForeignServerError, spawnServer, waitUntilReady, type ExitInfo } from './server-process';
import { consoleStoreLog, type StoreLog } from './store-log';
import { chooseBackend, storeEngine } from './store-engine';
import { StoreSupervisor, type SupervisorPolicy } from './supervisor';

export interface EmbeddedStoreOptions {
  /** Created if missing. mongod and FerretDB can share it: their files do not overlap. */
  dataDir: string;
  /** 0 or undefined: any free loopback port. */
  port?: number;
  log?: StoreLog;
  /** Defaults to process.env; decides PATH, cache directory and the child's environment. */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first ping; default 60 s (mongod's first start is slow). */
  startTimeoutMs?: number;
  /**
   * Restart the server when it dies, on the same data directory and port (the driver's URI
   * stays valid); `onGiveUp` is called once the policy's restarts are spent.
   */
  supervise?: SupervisorPolicy & { onGiveUp(reason: string): void };
}

export interface EmbeddedStore {
  /**
   * `mongodb://127.0.0.1:<port>/`, without a database name; for FerretDB with
   * `?maxPoolSize=1` (see FERRETDB_URI_OPTIONS).
   */
  uri: string;
  kind: StoreKind;
  /** FerretDB's backend; undefined for mongod. */
  backend?: FerretdbBackend;
  /** The running server's pid (a supervised store gets a new one at each restart). */
  readonly pid: number;
  /** The PostgreSQL postmaster's pid when FerretDB runs on PostgreSQL. */
  readonly postgresPid?: number;
  /**
   * Settles when the server has exited, whether through stop() or not; for a supervised store,
   * when supervision ends (stop(), or the supervisor gave up). On PostgreSQL, when either
   * FerretDB or PostgreSQL has exited (the other is then stopped too).
   */
  exited: Promise<ExitInfo>;
  /** Stops the server (SIGTERM, SIGKILL after a grace period; PostgreSQL: SIGINT). Idempotent. */
  stop(): Promise<void>;
}

// FerretDB 1.x runs an update as read, modify in Go, then `UPDATE … WHERE _id = ?` with no
// transaction around the three (FerretDB issue #3040), on SQLite and PostgreSQL alike.
// Concurrent updates of one document therefore lose writes, and a conditional findOneAndUpdate
// can have several winners (measured: 18 of 20 rounds of 20 racing calls). A single connection
// per client serializes this process's operations, which restores per-document atomicity for
// one app process.
const FERRETDB_URI_OPTIONS = '?maxPoolSize=1';

// A picked port can be taken by someone else before our server binds it; try a few.
const PORT_ATTEMPTS = 3;

/** What a start runs, decided once per data directory and reused by each restart. */
interface ServerPlan {
  kind: StoreKind;
  command: string;
  backend?: FerretdbBackend;
  postgres?: { bin: PostgresBinaries; account: PostgresAccount | undefined };
}

/**
 * Starts mongod (if on PATH) or FerretDB on 127.0.0.1 and resolves once it answers a ping.
 * FerretDB runs on PostgreSQL (started here too, its cluster in `<dataDir>/postgres`), or on
 * SQLite as a fallback that warns (store-engine.ts). Holds the data directory's lock until
 * stop() or exit: a second store on the same directory is refused with DataDirInUseError, and
 * servers a killed predecessor left running there are stopped first.
 */
export async function startEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const env = options.env ?? process.env;
  const log = options.log ?? consoleStoreLog;
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  // Before a possible FerretDB build, so a second server is refused at once, not minutes later.
  const lock = await lockDataDir(dataDir);
  try {
    // FerretDB first: it holds connections a smart shutdown of PostgreSQL would wait for.
    await stopLeftoverServer(dataDir, log);
    await stopLeftoverPostgres(dataDir, log);
    const plan = await planServer(env, dataDir, log);
    const server = await spawnUntilReady(plan, dataDir, options, log);
    if (options.supervise) {
      return supervised(server, { plan, dataDir, options, log, lock });
    }
    const stop = async (): Promise<void> => {
      await server.stop();
      await forgetServer(dataDir, server.pid);
      lock.release();
    };
    return { ...server, stop };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function planServer(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  log: StoreLog,
): Promise<ServerPlan> {
  storeEngine(env); // a bad STORE_ENGINE is refused even when mongod would be used
  const { kind, command } = await locateServer(env, log);
  if (kind === 'mongod') return { kind, command };
  const choice = await chooseBackend(env, dataDir, log);
  if (choice.backend === 'sqlite') return { kind, command, backend: 'sqlite' };
  const account = await postgresAccount(log);
  return { kind, command, backend: 'postgresql', postgres: { bin: choice.bin, account } };
}

function supervised(
  first: EmbeddedStore,
  s: {
    plan: ServerPlan;
    dataDir: string;
    options: EmbeddedStoreOptions;
    log: StoreLog;
    lock: { release(): void };
  },
): EmbeddedStore {
  const { onGiveUp, ...policy } = s.options.supervise!;
  const port = Number(new URL(first.uri).port);
  let current = first;
  const supervisor = new StoreSupervisor(first, policy, {
    // The same port: the application's driver keeps its URI and reconnects on its own.
    restart: async () => {
      current = await spawnUntilReady(s.plan, s.dataDir, { ...s.options, port }, s.log);
      return current;
    },
    onGiveUp: (reason) => {
      s.lock.release();
      onGiveUp(reason);
    },
    log: s.log,
  });
  return {
    uri: first.uri,
    kind: first.kind,
    backend: first.backend,
    get pid() {
      return supervisor.pid;
    },
    get postgresPid() {
      return current.postgresPid;
    },
    exited: supervisor.ended,
    stop: async () => {
      const pid = supervisor.pid;
      await supervisor.stop();
      await forgetServer(s.dataDir, pid);
      s.lock.release();
    },
  };
}

async function spawnUntilReady(
  plan: ServerPlan,
  dataDir: string,
  options: EmbeddedStoreOptions,
  log: StoreLog,
): Promise<EmbeddedStore> {
  if (!plan.postgres) {
    return spawnMongoServer(plan, dataDir, options, log);
  }
  const postgres = await startPostgresOnFreePort(plan.postgres, dataDir, {
    env: options.env ?? process.env,
    timeoutMs: options.startTimeoutMs ?? 60_000,
    attempts: PORT_ATTEMPTS,
    log,
  });
  let ferretdb: EmbeddedStore;
  try {
    ferretdb = await spawnMongoServer(plan, dataDir, options, log, postgres.url);
  } catch (error) {
    await postgres.server.stop(30_000);
    throw error;
  }
  return pairedWithPostgres(ferretdb, postgres, log);
}

async function spawnMongoServer(
  plan: ServerPlan,
  dataDir: string,
  options: EmbeddedStoreOptions,
  log: StoreLog,
  postgresqlUrl?: string,
): Promise<EmbeddedStore> {
  const { kind, command, backend } = plan;
  const env = options.env ?? process.env;
  const attempts = options.port ? 1 : PORT_ATTEMPTS;
  for (let attempt = 1; ; attempt++) {
    const port = options.port || (await freeLoopbackPort());
    const uri = `mongodb://127.0.0.1:${port}/${kind === 'ferretdb' ? FERRETDB_URI_OPTIONS : ''}`;
    const started = Date.now();
    const server = spawnServer(
      command,
      serverArgs(kind, dataDir, port, backend),
      serverEnv(kind, env, postgresqlUrl),
    );
    try {
      // Recorded before it is ready: a kill -9 of this process during start-up orphans it too.
      if (server.pid > 0) {
        await recordServer(dataDir, { pid: server.pid, kind, command, port });
      }
      await waitUntilReady(uri, server, { port, timeoutMs: options.startTimeoutMs ?? 60_000 });
    } catch (error) {
      await server.stop(2_000);
      await forgetServer(dataDir, server.pid);
      const portTaken =
        error instanceof ForeignServerError || /address already in use/i.test(server.output());
      if (portTaken && attempt < attempts) {
        log(`port ${port} was taken before ${kind} could bind it; trying another`);
        continue;
      }
      throw new Error(
        `${kind} (${command}) did not start on ${uri}: ${(error as Error).message}\n` +
          `--- its output ---\n${server.output().trim() || '(none)'}` +
          (kind === 'ferretdb' ? `\nIf this binary is broken, delete it to have it rebuilt.` : ''),
      );
    }
    const on = backend ? ` on ${backend}` : '';
    log(
      `${kind}${on} (pid ${server.pid}) ready at ${uri} in ${Date.now() - started} ms, data in ${dataDir}`,
    );

    let stopping = false;
    void server.exited.then(({ code, signal }) => {
      if (!stopping && code !== 0) {
        log(`${kind} (pid ${server.pid}) exited unexpectedly (code ${code}, signal ${signal}):`);
        log(server.output().trim().split('\n').slice(-20).join('\n'));
      }
    });
    return {
      uri,
      kind,
      backend,
      pid: server.pid,
      exited: server.exited,
      stop: async () => {
        stopping = true;
        await server.stop();
      },
    };
  }
}

export interface ResolveMongoUriOptions {
  /** Where the embedded store keeps its data, e.g. `./data`. */
  dataDir: string;
  /** Database used on the embedded store; default `mullion`. MONGODB_URI names its own. */
  database?: string;
  log?: StoreLog;
  /** Keep the embedded store running (see EmbeddedStoreOptions.supervise). */
  supervise?: EmbeddedStoreOptions['supervise'];
}

export interface ResolvedMongo {
  uri: string;
  /** `external`: MONGODB_URI, nothing started and nothing to stop. */
  source: 'external' | StoreKind;
  /** The embedded server's current pid; undefined for MONGODB_URI. */
  readonly pid?: number;
  stop(): Promise<void>;
}

/** MONGODB_URI when set; otherwise an embedded store on `dataDir` (see startEmbeddedStore). */
export async function resolveMongoUri(
  env: NodeJS.ProcessEnv,
  options: ResolveMongoUriOptions,
): Promise<ResolvedMongo> {
  const external = env.MONGODB_URI?.trim();
  if (external) {
    return { uri: external, source: 'external', stop: async () => undefined };
  }
  const store = await startEmbeddedStore({
    dataDir: options.dataDir,
    log: options.log,
    env,
    supervise: options.supervise,
  });
  return {
    uri: withDatabase(store.uri, options.database ?? 'mullion'),
    source: store.kind,
    get pid() {
      return store.pid;
    },
    stop: store.stop,
  };
}
