import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { MongoClient } from 'mongodb';
import { databaseOf, withDatabase } from '../../src/store/mongo-uri';

/** Set by global-setup.ts for every e2e worker: the store's URI, no database name. */
export const TEST_MONGODB_URI_ENV = 'MULLION_TEST_MONGODB_URI';
/** Set by global-setup.ts: names this run's databases, so teardown drops them and no others. */
export const TEST_RUN_ENV = 'MULLION_TEST_RUN';

// Only databases with this prefix are ever dropped, so a MONGODB_URI pointing at a real
// deployment cannot lose anything but test data.
const TEST_DATABASE_PREFIX = 'mullion_test_';

/**
 * A connection string for a database of its own, e.g. `testDatabaseUri(__filename)` →
 * `…/mullion_test_commands_create_3f9a1c02…`: test files run in parallel workers and must not
 * see each other's data.
 */
export function testDatabaseUri(name: string): string {
  const base = process.env[TEST_MONGODB_URI_ENV];
  if (!base) {
    throw new Error(
      `${TEST_MONGODB_URI_ENV} is not set: run e2e tests through jest's e2e project ` +
        '(npm test or npm run test:e2e), whose global setup starts the store.',
    );
  }
  return withDatabase(base, testDatabaseName(name));
}

/** A fresh run id (global-setup.ts): 6 hex characters. */
export function newTestRun(): string {
  return randomBytes(3).toString('hex');
}

/** `mullion_test_<run>_`: every database of one jest run starts with it. */
function runPrefix(run: string): string {
  return `${TEST_DATABASE_PREFIX}${run}_`;
}

/**
 * `mullion_test_<run>_<file stem>_<random>`, within FerretDB's 63 characters of [A-Za-z0-9_-]
 * (13 + 6 + 1 + 28 + 1 + 12).
 */
export function testDatabaseName(name: string): string {
  const run = process.env[TEST_RUN_ENV] ?? 'norun0';
  const stem = basename(name)
    .replace(/\.(e2e-spec|medium-spec|spec|test)\.[jt]s$/, '')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 28);
  return `${runPrefix(run)}${stem || 'db'}_${randomBytes(6).toString('hex')}`;
}

/** Drops the database a testDatabaseUri() names; refuses any other database. */
export async function dropTestDatabase(uri: string): Promise<void> {
  const database = databaseOf(uri);
  if (!database?.startsWith(TEST_DATABASE_PREFIX)) {
    throw new Error(`Refusing to drop "${database ?? '(none)'}": not a test database`);
  }
  const client = new MongoClient(uri);
  try {
    await client.connect();
    await client.db(database).dropDatabase();
  } finally {
    await client.close();
  }
}

/**
 * Drops what this run left on a shared server (MONGODB_URI): a file whose `close()` never ran
 * (a crash, a timeout) still loses its database. Other runs' databases are left alone.
 */
export async function dropTestRunDatabases(baseUri: string, run: string): Promise<string[]> {
  const prefix = runPrefix(run);
  const client = new MongoClient(baseUri);
  try {
    await client.connect();
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    const ours = databases.map((d) => d.name).filter((name) => name.startsWith(prefix));
    for (const name of ours) await client.db(name).dropDatabase();
    return ours;
  } finally {
    await client.close();
  }
}
