import { rm } from 'node:fs/promises';
import { takeTestStore } from './global-setup';
import { TEST_MONGODB_URI_ENV, TEST_RUN_ENV, dropTestRunDatabases } from './store';

/**
 * Jest global teardown (e2e project): stops the store global-setup started; on a MONGODB_URI
 * server, which outlives the run, drops the databases this run created.
 */
export default async function globalTeardown(): Promise<void> {
  const testStore = takeTestStore();
  if (testStore) {
    await testStore.store.stop();
    await rm(testStore.dataDir, { recursive: true, force: true });
    return;
  }
  // Each project (e2e, medium, fuzz) runs this teardown: the embedded store is stopped by the
  // first, and only a MONGODB_URI server, which outlives the run, has databases left to drop.
  if (!process.env.MONGODB_URI?.trim()) return;
  const uri = process.env[TEST_MONGODB_URI_ENV];
  const run = process.env[TEST_RUN_ENV];
  if (!uri || !run) return;
  try {
    const dropped = await dropTestRunDatabases(uri, run);
    if (dropped.length) console.log(`\n[test store] dropped ${dropped.length} leftover databases`);
  } catch (e) {
    // The tests have run: a user without listDatabases only loses the leftover cleanup.
    console.warn(`\n[test store] could not drop this run's leftover databases: ${String(e)}`);
  }
}
