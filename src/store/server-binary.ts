import { StoreUnavailableError } from './errors';
import { ensureFerretdb } from './ferretdb-build';
import {
  FERRETDB_VERSION,
  ferretdbBinaryPath,
  findOnPath,
  isExecutableFile,
  mullionCacheDir,
} from './paths';
import type { StoreLog } from './store-log';

export type StoreKind = 'mongod' | 'ferretdb';
/** FerretDB's backend: PostgreSQL by default, SQLite as a warned fallback (decisions.md §33). */
export type FerretdbBackend = 'postgresql' | 'sqlite';

export interface ServerBinary {
  kind: StoreKind;
  command: string;
}

/**
 * Picks the embedded server: a real `mongod` on PATH if there is one; otherwise FerretDB from
 * the user cache, built there first with Go if it is missing.
 */
export async function locateServer(env: NodeJS.ProcessEnv, log: StoreLog): Promise<ServerBinary> {
  const mongod = findOnPath('mongod', env);
  if (mongod) {
    return { kind: 'mongod', command: mongod };
  }
  const cacheDir = mullionCacheDir(env);
  const cached = ferretdbBinaryPath(cacheDir);
  if (isExecutableFile(cached)) {
    return { kind: 'ferretdb', command: cached };
  }
  const go = findOnPath('go', env);
  if (!go) {
    throw new StoreUnavailableError(unavailableMessage(cached));
  }
  return { kind: 'ferretdb', command: await ensureFerretdb(go, cacheDir, log) };
}

function unavailableMessage(ferretdbPath: string): string {
  return [
    'No MongoDB-compatible store is available: MONGODB_URI is not set, there is no `mongod` on',
    `PATH, no FerretDB at ${ferretdbPath}, and no \`go\` on PATH to build FerretDB ${FERRETDB_VERSION}.`,
    'Do one of these, then start again:',
    '  - use an existing MongoDB (4.4 or later): set MONGODB_URI to its connection string, e.g.',
    "      export MONGODB_URI='mongodb://127.0.0.1:27017/mullion'",
    '  - install MongoDB so that `mongod` is on PATH;',
    '  - install Go 1.24 or later (https://go.dev/dl/) and put its bin directory (often',
    '    /usr/local/go/bin) on PATH: FerretDB is then built once, into the directory above.',
  ].join('\n');
}

/**
 * Command-line flags: loopback only, data in `dataDir`, quiet. FerretDB on PostgreSQL takes its
 * URL (with the password) from the environment, see serverEnv.
 */
export function serverArgs(
  kind: StoreKind,
  dataDir: string,
  port: number,
  backend: FerretdbBackend = 'sqlite',
): string[] {
  if (kind === 'mongod') {
    return ['--dbpath', dataDir, '--bind_ip', '127.0.0.1', '--port', String(port), '--quiet'];
  }
  return [
    ...(backend === 'postgresql'
      ? ['--handler=postgresql']
      : ['--handler=sqlite', `--sqlite-url=file:${dataDir}/`]),
    `--listen-addr=127.0.0.1:${port}`,
    '--telemetry=disable',
    '--debug-addr=-', // no metrics/pprof HTTP listener
    `--state-dir=${dataDir}`,
    '--log-level=warn',
  ];
}

/**
 * FerretDB's Go garbage collector, unless the environment sets its own (decisions.md §58).
 * FerretDB decodes every document it reads from JSON into short-lived objects: with Go's default
 * (GOGC=100) the collector and its allocations took ~30 % of FerretDB's CPU in a profile of idle
 * check-ins. GOGC=400 lets the heap grow to five times what is live between collections instead
 * of twice; GOMEMLIMIT caps what that may cost (a soft limit: past it the collector runs more
 * often, as with a lower GOGC).
 */
export const FERRETDB_GC = { GOGC: '400', GOMEMLIMIT: '1GiB' } as const;

/**
 * The child's environment: ours, with FerretDB's telemetry off even if a flag were dropped, its
 * collector settings (FERRETDB_GC, where ours sets none), and the PostgreSQL URL (a process's
 * environment is readable by its owner only, its argv by all).
 */
export function serverEnv(
  kind: StoreKind,
  env: NodeJS.ProcessEnv,
  postgresqlUrl?: string,
): NodeJS.ProcessEnv {
  if (kind === 'mongod') {
    return env;
  }
  const { FERRETDB_POSTGRESQL_URL: _inherited, ...rest } = env;
  return {
    ...FERRETDB_GC,
    ...rest,
    DO_NOT_TRACK: '1',
    FERRETDB_TELEMETRY: 'disable',
    ...(postgresqlUrl ? { FERRETDB_POSTGRESQL_URL: postgresqlUrl } : {}),
  };
}
