import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockOptions {
  timeoutMs: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: (holderPid: number | undefined) => void;
}

/**
 * Runs `fn` while holding an exclusive lock file (created with O_EXCL, holding our pid), so two
 * processes on one machine — e.g. jest's global setup and a unit test, or two checkouts — never
 * build into the same cache at once. A lock left by a dead process is taken over.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let warned = false;
  for (;;) {
    if (await tryAcquire(path)) {
      break;
    }
    const holder = await readHolder(path);
    const stale = holder === undefined ? await isOlderThan(path, 10_000) : !isAlive(holder);
    if (stale) {
      await rm(path, { force: true });
      continue;
    }
    if (!warned) {
      options.onWait?.(holder);
      warned = true;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for the lock ${path}` +
          ` (held by pid ${holder ?? 'unknown'}). If no such process is running, delete the file.`,
      );
    }
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

async function tryAcquire(path: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(String(process.pid));
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw error;
  }
}

async function readHolder(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    // Released between our attempt and this read, or still being written: just retry.
    return undefined;
  }
}

// An unreadable or empty lock that has existed for a while was left by a process that died
// between creating and writing it.
async function isOlderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
