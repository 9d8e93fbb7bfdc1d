import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';

const OUTPUT_TAIL_BYTES = 16 * 1024;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A database server we started as a child process. */
export interface ServerProcess {
  readonly pid: number;
  /** Settles when the child has exited, for whatever reason. */
  readonly exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** The last ~16 KiB the child wrote to stdout and stderr, for error messages. */
  output(): string;
  /** The stop signal (SIGTERM), then SIGKILL if it is still running after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

// Process-wide hooks shared by every live child (not one set per child, which would trip
// Node's listener-count warning in test runs): the store must not outlive its parent.
const liveChildren = new Map<ChildProcess, NodeJS.Signals>();
let hooksInstalled = false;

// 'exit' covers process.exit() and uncaught errors. Only synchronous work is possible there;
// the child's stop signal lets it close its files cleanly on its own.
function terminateChildren(): void {
  liveChildren.forEach((signal, child) => child.kill(signal));
}

// A signal nobody handles kills Node without an 'exit' event. Listening for it cancels that
// default, so this listener restores it: when it is the only one, it stops the children and
// re-raises the signal with itself removed. When the application handles the signal too (Nest
// shutdown hooks, tools/store.ts), calling stop() is the application's job.
function onTerminatingSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) {
    return;
  }
  terminateChildren();
  process.removeListener(signal, onTerminatingSignal);
  process.kill(process.pid, signal);
}

function trackUntilExit(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!hooksInstalled) {
    process.on('exit', terminateChildren);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, onTerminatingSignal);
    }
    hooksInstalled = true;
  }
  liveChildren.set(child, signal);
  child.once('exit', () => liveChildren.delete(child));
}

export interface SpawnOptions {
  /** Run as this account (PostgreSQL refuses root). */
  uid?: number;
  gid?: number;
  cwd?: string;
  /** What stop() sends first; default SIGTERM (PostgreSQL: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals;
}

export function spawnServer(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: SpawnOptions = {},
): ServerProcess {
  const { stopSignal = 'SIGTERM', ...spawnOptions } = options;
  // Not detached: a Ctrl-C in the terminal reaches the whole process group, so the server
  // also dies when the parent is interrupted without a chance to run any handler.
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
  let tail = '';
  // The pipes must be drained for the whole life of the child, or it blocks once they fill.
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (error) => {
      // spawn failures (ENOENT, EACCES) arrive here and no 'exit' follows.
      collect(Buffer.from(`\n${error.message}\n`));
      exitInfo ??= { code: null, signal: null };
      resolve(exitInfo);
    });
    child.once('exit', (code, signal) => {
      exitInfo ??= { code, signal };
      resolve(exitInfo);
    });
  });
  trackUntilExit(child, stopSignal);

  const stop = async (graceMs = 10_000): Promise<void> => {
    if (exitInfo) {
      return;
    }
    child.kill(stopSignal);
    // Unref'd: a pending grace timer must not keep the parent alive after the child is gone.
    const timer = sleep(graceMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };

  return {
    pid: child.pid ?? -1,
    exited,
    hasExited: () => exitInfo !== undefined,
    output: () => tail,
    stop,
  };
}

/** The port answers, but for another process: retrying will not help. */
export class ForeignServerError extends Error {}

export interface PingOptions {
  port: number;
  timeoutMs: number;
}

/**
 * Waits until the server at `uri` answers `ping` and proves to be our child (serverStatus.pid,
 * reported by both mongod and FerretDB): if another process grabbed the port first, we would
 * otherwise happily talk to a stranger while our child died with "address already in use".
 */
export async function waitUntilReady(
  uri: string,
  server: ServerProcess,
  options: PingOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (!server.hasExited()) {
    if (Date.now() > deadline) {
      throw new Error(
        `no answer to ping within ${options.timeoutMs / 1000} s (last error: ${message(lastError)})`,
      );
    }
    // The driver waits its whole server-selection timeout on a refused connection, so a bare
    // TCP probe first keeps start-up at the server's own speed (~100 ms for FerretDB).
    if (!(await acceptsConnections(options.port))) {
      await Promise.race([sleep(50), server.exited]);
      continue;
    }
    try {
      const pid = await pingOnce(uri);
      if (pid !== server.pid) {
        throw new ForeignServerError(`${uri} is served by pid ${pid}, not by ours (${server.pid})`);
      }
      return;
    } catch (error) {
      lastError = error;
      if (error instanceof ForeignServerError) {
        throw error;
      }
      await Promise.race([sleep(100), server.exited]);
    }
  }
  const { code, signal } = await server.exited;
  throw new Error(`it exited during start-up (code ${code}, signal ${signal})`);
}

async function pingOnce(uri: string): Promise<number> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 1_000,
    connectTimeoutMS: 1_000,
    directConnection: true,
  });
  try {
    await client.connect();
    const admin = client.db('admin');
    await admin.command({ ping: 1 });
    const status = await admin.command({ serverStatus: 1 });
    return Number(status.pid);
  } finally {
    await client.close();
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? 'none');
}
