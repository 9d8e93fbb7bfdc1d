import { rm } from 'node:fs/promises';
import { takeTestStore } from './global-setup';

/** Jest global teardown (e2e project): stops the store global-setup started, if it did. */
export default async function globalTeardown(): Promise<void> {
  const testStore = takeTestStore();
  if (!testStore) {
    return; // MONGODB_URI was used: nothing of ours to stop
  }
  await testStore.store.stop();
  await rm(testStore.dataDir, { recursive: true, force: true });
}
