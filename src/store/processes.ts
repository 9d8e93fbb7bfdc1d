import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// What the store needs to know about other processes, from Linux's /proc where it matters
// (command lines, start times, zombies). Elsewhere these degrade to pid liveness alone.

/**
 * Alive and not a zombie. An orphan reparented to an init that never reaps (common in
 * containers) stays a zombie after it exits, and a zombie holds no files or ports.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') {
      return false;
    }
  }
  return procStat(pid)?.state !== 'Z';
}

/**
 * When the process started, in clock ticks since boot (/proc/<pid>/stat field 22); undefined
 * without /proc. A pid and its start time name one process: pids are reused, notably in a
 * restarted container where the new server may get the pid the old one had.
 */
export function startTimeOf(pid: number): number | undefined {
  return procStat(pid)?.startTime;
}

/** The arguments the process was started with, argv[0] first; undefined without /proc. */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').slice(0, raw.endsWith('\0') ? -1 : undefined);
  } catch {
    return undefined;
  }
}

function procStat(pid: number): { state: string; startTime: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: Number(fields[19]) };
}

/** Polls until `pid` is no longer running or `ms` have passed; true if it is gone. */
export async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid)) {
    if (Date.now() > deadline) {
      return false;
    }
    await sleep(50);
  }
  return true;
}

/** `first` (SIGTERM), then SIGKILL after `graceMs`; true once the process is gone. */
export async function terminate(
  pid: number,
  graceMs: number,
  first: NodeJS.Signals = 'SIGTERM',
): Promise<boolean> {
  for (const [signal, ms] of [
    [first, graceMs],
    ['SIGKILL', 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return !isRunning(pid);
    }
    if (await waitUntilGone(pid, ms)) {
      return true;
    }
  }
  return false;
}
