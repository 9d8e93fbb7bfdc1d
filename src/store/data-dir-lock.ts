import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandLineOf, isRunning, startTimeOf } from './processes';

export const DATA_DIR_LOCK_FILE = 'mullion-store.lock';

/** Who holds a data directory: enough to tell a live holder from a dead one whose pid came back. */
interface Holder {
  pid: number;
  startTime?: number;
  command?: string;
}

/** Another live process runs the embedded store on this data directory. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';

  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
    holderCommand: string | undefined,
  ) {
    super(
      [
        `The data directory ${dataDir} is in use by another mullion process (pid ${holderPid}` +
          `${holderCommand ? `: ${holderCommand}` : ''}), which runs the embedded store on it.`,
        'Two stores on one directory would write the same database files, so this one will not start.',
        `Stop that process first (Ctrl-C in its terminal, or \`kill ${holderPid}\`), or give this one a`,
        'data directory of its own: DATA_DIR=/path/to/other npm start (or npm run store -- --data-dir <dir>).',
        `(The lock is ${join(dataDir, DATA_DIR_LOCK_FILE)}; a lock left by a process that has exited is taken over.)`,
      ].join('\n'),
    );
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Synchronous, so it also works in an 'exit' handler. Idempotent. */
  release(): void;
}

// Released when the process exits normally too, so the next start finds no lock at all. A
// process killed by a signal leaves its lock behind; the next start sees its pid gone.
const held = new Map<string, string>();
let exitHookInstalled = false;

function releaseAll(): void {
  held.forEach((content, path) => removeIfOurs(path, content));
  held.clear();
}

/**
 * Takes `<dataDir>/mullion-store.lock` for as long as this process runs a store there, or throws
 * DataDirInUseError naming the live holder. A lock whose holder has exited (or whose pid now
 * belongs to another process) is taken over. `dataDir` must exist.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  const me: Holder = {
    pid: process.pid,
    startTime: startTimeOf(process.pid),
    command: (commandLineOf(process.pid) ?? process.argv).join(' '),
  };
  const content = `${JSON.stringify(me)}\n`;
  // Each round either takes the lock, refuses, or removes one stale lock; a few rounds are
  // enough unless other processes keep racing us for it.
  for (let round = 0; round < 5; round++) {
    if (await createExclusive(path, content)) {
      held.set(path, content);
      if (!exitHookInstalled) {
        process.on('exit', releaseAll);
        exitHookInstalled = true;
      }
      let released = false;
      return {
        path,
        release: () => {
          if (!released) {
            released = true;
            held.delete(path);
            removeIfOurs(path, content);
          }
        },
      };
    }
    const seen = await readIfPresent(path);
    if (seen === undefined) {
      continue; // released meanwhile
    }
    const holder = parseHolder(seen);
    if (holder && isHeldBy(holder, path)) {
      throw new DataDirInUseError(dataDir, holder.pid, holder.command);
    }
    await removeStale(path, seen);
  }
  throw new Error(`Could not take the lock ${path}: other processes keep taking it.`);
}

let drafts = 0;

/**
 * Written to a private file first and hard-linked into place: link() fails if the lock exists,
 * and a reader never sees a lock without its holder.
 */
async function createExclusive(path: string, content: string): Promise<boolean> {
  const draft = `${path}.${process.pid}-${++drafts}.tmp`;
  await writeFile(draft, content);
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return false;
    }
    throw error;
  } finally {
    await rm(draft, { force: true });
  }
}

/**
 * Moves the stale lock aside before deleting it, and checks it is still the one judged stale:
 * if another process replaced it with a live lock meanwhile, that one is put back.
 */
async function removeStale(path: string, staleContent: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw error;
  }
  if ((await readIfPresent(aside)) !== staleContent) {
    await link(aside, path).catch(() => undefined); // someone else may hold it by now
  }
  await rm(aside, { force: true });
}

function isHeldBy(holder: Holder, path: string): boolean {
  if (holder.pid === process.pid && holder.startTime === startTimeOf(process.pid)) {
    // Our own pid: held if this very process took it (a second store in one process), stale
    // if an earlier process with our pid left it and /proc cannot tell them apart.
    return held.has(path) || holder.startTime !== undefined;
  }
  if (!isRunning(holder.pid)) {
    return false;
  }
  const startTime = startTimeOf(holder.pid);
  return (
    holder.startTime === undefined || startTime === undefined || startTime === holder.startTime
  );
}

function parseHolder(content: string): Holder | undefined {
  try {
    const holder = JSON.parse(content) as Partial<Holder>;
    return Number.isInteger(holder.pid) && (holder.pid ?? 0) > 0 ? (holder as Holder) : undefined;
  } catch {
    return undefined; // unreadable: nobody can be shown to hold it
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

function removeIfOurs(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) {
      unlinkSync(path);
    }
  } catch {
    // already gone
  }
}
