import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandLineOf, isRunning, startTimeOf, terminate } from './processes';
import type { StoreKind } from './server-binary';
import type { StoreLog } from './store-log';

// The store server runs as a child of mullion. A `kill -9` of mullion (or the kernel's OOM
// killer) gives it no chance to stop that child, which then keeps running with
// the data directory's files open. Each start records its server here, and the next start on
// the same data directory stops a server still running from that record.
export const SERVER_RECORD_FILE = 'mullion-store.json';

export interface ServerRecord {
  pid: number;
  kind: StoreKind;
  /** The executable as spawned: argv[0] of the child. */
  command: string;
  port: number;
  startTime?: number;
}

export async function recordServer(
  dataDir: string,
  server: Omit<ServerRecord, 'startTime'>,
): Promise<void> {
  const record: ServerRecord = { ...server, startTime: startTimeOf(server.pid) };
  const path = join(dataDir, SERVER_RECORD_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(record)}\n`);
  await rename(`${path}.tmp`, path);
}

/** Removes the record if it still names `pid` (a newer start may have replaced it). */
export async function forgetServer(dataDir: string, pid: number): Promise<void> {
  if ((await readRecord(dataDir))?.pid === pid) {
    await rm(join(dataDir, SERVER_RECORD_FILE), { force: true });
  }
}

/**
 * Stops the server a previous start on `dataDir` left running, if the record names one that is
 * still running the recorded executable on this data directory. Call it while holding the data
 * directory's lock: its previous holder is then known to be gone.
 */
export async function stopLeftoverServer(dataDir: string, log: StoreLog): Promise<void> {
  const record = await readRecord(dataDir);
  if (!record) {
    return;
  }
  if (isRunning(record.pid) && isServerOn(record, dataDir)) {
    log(
      `stopping ${record.kind} (pid ${record.pid}, port ${record.port}) left running on ${dataDir} ` +
        'by a mullion process that ended without stopping it',
    );
    if (!(await terminate(record.pid, 10_000))) {
      throw new Error(
        `${record.kind} (pid ${record.pid}) left running on ${dataDir} does not stop; ` +
          `stop it by hand (kill -9 ${record.pid}) and start again.`,
      );
    }
  }
  await rm(join(dataDir, SERVER_RECORD_FILE), { force: true });
}

/**
 * The process is the recorded executable and was started on `dataDir`: a pid alone may have
 * been reused by anything since. Without /proc nothing can be verified, so nothing is stopped.
 */
function isServerOn(record: ServerRecord, dataDir: string): boolean {
  const argv = commandLineOf(record.pid);
  if (!argv || argv[0] !== record.command) {
    return false;
  }
  if (record.startTime !== undefined && startTimeOf(record.pid) !== record.startTime) {
    return false;
  }
  return record.kind === 'ferretdb'
    ? argv.includes(`--state-dir=${dataDir}`)
    : argv.some((arg, i) => arg === '--dbpath' && argv[i + 1] === dataDir);
}

async function readRecord(dataDir: string): Promise<ServerRecord | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, SERVER_RECORD_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as Partial<ServerRecord>;
    const valid =
      Number.isInteger(record.pid) &&
      (record.pid ?? 0) > 0 &&
      typeof record.command === 'string' &&
      (record.kind === 'ferretdb' || record.kind === 'mongod');
    return valid ? (record as ServerRecord) : undefined;
  } catch {
    return undefined;
  }
}
