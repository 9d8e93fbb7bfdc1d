import { rm } from 'node:fs/promises';
import { takeTestStore } from './global-setup';
import {
  checkShapes,
  declaredIndexes,
  readRecordings,
  shapeFailureMessage,
} from './query-shape-check';
import { QUERY_SHAPES_DIR_ENV } from './shape-recorder';
import { TEST_MONGODB_URI_ENV, TEST_RUN_ENV, dropTestRunDatabases } from './store';

/**
 * Jest global teardown (e2e project): stops the store global-setup started; on a MONGODB_URI
 * server, which outlives the run, drops the databases this run created.
 */
export default async function globalTeardown(): Promise<void> {
  await stopStore();
  await checkQueryShapes();
}

/**
 * The query-shape test (docs/testing.md): every shape the server issued in this run, from
 * whichever files ran, must be served by a declared index prefix. Each project runs this
 * teardown after every test of the run: the first one checks, and removes the recordings.
 */
async function checkQueryShapes(): Promise<void> {
  const dir = process.env[QUERY_SHAPES_DIR_ENV];
  if (!dir) return;
  delete process.env[QUERY_SHAPES_DIR_ENV];
  const recorded = readRecordings(dir);
  const report = checkShapes(recorded, declaredIndexes());
  if (report.failures.length) {
    // The directory stays for a look at the raw recordings.
    throw new Error(shapeFailureMessage(report, dir));
  }
  await rm(dir, { recursive: true, force: true });
  console.log(
    `\n[query shapes] ${report.checked} shapes checked, all served by a declared index prefix` +
      (report.allowed ? ` (${report.allowed} allowed by query-shape-allow.ts)` : ''),
  );
}

async function stopStore(): Promise<void> {
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
