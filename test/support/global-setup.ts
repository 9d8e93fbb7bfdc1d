import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStore, type EmbeddedStore } from '../../src/store';
import { TEST_MONGODB_URI_ENV, TEST_RUN_ENV, newTestRun } from './store';
import { QUERY_SHAPES_DIR_ENV } from './shape-recorder';

export interface TestStore {
  store: EmbeddedStore;
  dataDir: string;
}

// Jest runs globalSetup and globalTeardown in one process but loads each module on its own, so
// a global (the documented way) carries the running store from one to the other.
const KEY = Symbol.for('mullion.testStore');
const STARTED = Symbol.for('mullion.testStoreStarted');
type Holder = { [KEY]?: TestStore; [STARTED]?: boolean };

export function takeTestStore(): TestStore | undefined {
  const holder = globalThis as Holder;
  const testStore = holder[KEY];
  delete holder[KEY];
  return testStore;
}

/**
 * Jest global setup (e2e project): MONGODB_URI when set, else an embedded store on a fresh
 * temporary directory and a free port. Workers are forked after this runs and inherit the URI
 * and the run id through the environment; each test file then takes a database of its own
 * (./store.ts), and global-teardown.ts drops this run's databases from a MONGODB_URI server.
 */
export default async function globalSetup(): Promise<void> {
  // The e2e, medium and fuzz projects share one store and one run: jest runs each project's
  // global setup in this one process.
  const holder = globalThis as Holder;
  if (holder[STARTED]) return;
  holder[STARTED] = true;
  process.env[TEST_RUN_ENV] = newTestRun();
  // Each test file's app writes the query shapes it saw here; global teardown checks them.
  process.env[QUERY_SHAPES_DIR_ENV] = await mkdtemp(join(tmpdir(), 'mullion-query-shapes-'));
  const external = process.env.MONGODB_URI?.trim();
  if (external) {
    process.env[TEST_MONGODB_URI_ENV] = external;
    console.log('\n[test store] using MONGODB_URI');
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'mullion-test-store-'));
  const store = await startEmbeddedStore({
    dataDir,
    log: (message) => console.log(`\n[test store] ${message}`),
  });
  holder[KEY] = { store, dataDir };
  process.env[TEST_MONGODB_URI_ENV] = store.uri;
}
