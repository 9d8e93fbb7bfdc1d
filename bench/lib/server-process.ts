/*
 * The server under test in a process of its own (child_process.fork), so that /proc shows its
 * main thread's CPU apart from the load generator's and the bench's, and its store processes as
 * its descendants. The app is the bench server (bench/lib/bench-server.ts: the real app, request
 * logging off, a temporary DATA_DIR and embedded store, or MONGODB_URI) with the HTTPS device
 * listener, and driver command monitoring to count round trips.
 *
 * Parent side: forkServer(). Child side: this file run with `--server-process` on the command line.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import type { ResolvedMongo } from '../../src/store';
import { descendantsOf, listProcesses } from './proc-cpu';

/** One driver command the server started, as the round-trip tables show it. */
export interface SeenCommand {
  /** e.g. `find win_commands`, `update win_devices (10 updates)`. */
  text: string;
  /** Driver-measured duration; NaN until it ends. */
  ms: number;
  /**
   * Work of the server's background loops rather than of the message: the webhook outbox relay
   * (filters on outboxAt or `published`, acknowledges by unsetting outboxAt), webhook delivery
   * and the instance lease.
   */
  background: boolean;
}

export interface ServerReady {
  kind: 'ready';
  pid: number;
  adminUrl: string;
  deviceUrl: string;
  token: string;
  storeKind: ResolvedMongo['source'];
  storeDescription: string;
  storeUri: string;
  /** See BenchServer.storeDataDir. */
  storeDataDir: string | null;
}

/** Counters since the server started (the parent takes differences). */
export interface ServerCounters {
  /** Driver commands started, and the sum of the durations of those that ended. */
  dbCommands: number;
  dbMs: number;
  /** TLS handshakes the device listener completed. */
  handshakes: number;
}

type Request =
  | { kind: 'counters'; id: number }
  /** Start recording every command started, in order. */
  | { kind: 'record'; id: number }
  /** How many commands were recorded so far (the end of "during a message"). */
  | { kind: 'mark'; id: number }
  /** Stop recording and return what was recorded. */
  | { kind: 'recorded'; id: number }
  | { kind: 'stop'; id: number };

type Reply =
  ServerReady | { kind: 'reply'; id: number; value: unknown } | { kind: 'failed'; message: string };

function describeCommand(e: CommandStartedEvent): string {
  const cmd = e.command as Record<string, unknown>;
  const coll = typeof cmd[e.commandName] === 'string' ? ` ${String(cmd[e.commandName])}` : '';
  const n = (k: string) => (Array.isArray(cmd[k]) ? (cmd[k] as unknown[]).length : 0);
  const batch =
    e.commandName === 'update' && n('updates') > 1
      ? ` (${n('updates')} updates)`
      : e.commandName === 'insert' && n('documents') > 1
        ? ` (${n('documents')} docs)`
        : '';
  return `${e.commandName}${coll}${batch}`;
}

// Webhook delivery, the instance lease, and the profile planner's and reconciler's polls (the
// bench's commands carry no profile origin, so a message itself never reads these).
const BACKGROUND_COLLECTIONS =
  /^(webhook_|instance_leases$|win_profiles$|win_profile_(plans|assignments)$)/;

/** See SeenCommand.background. Only filters count: session updates $set outboxAt too. */
export function isBackgroundCommand(command: Record<string, unknown>, name: string): boolean {
  const coll = command[name];
  if (typeof coll === 'string' && BACKGROUND_COLLECTIONS.test(coll)) return true;
  const list = (k: string) =>
    Array.isArray(command[k]) ? (command[k] as { q?: unknown; u?: unknown }[]) : [];
  const keys = (o: unknown): string[] =>
    typeof o === 'object' && o !== null ? Object.keys(o) : [];
  const filters = [
    command.filter,
    command.query,
    ...list('updates').map((u) => u.q),
    ...list('deletes').map((d) => d.q),
  ];
  // The relay finds records by outboxAt (device events by `published`) and acknowledges them by
  // emptying `outbox` and unsetting outboxAt.
  return (
    filters.some((f) => keys(f).includes('outboxAt') || keys(f).includes('published')) ||
    list('updates').some((u) =>
      keys((u.u as { $unset?: unknown } | undefined)?.$unset).includes('outboxAt'),
    )
  );
}

async function runChild(): Promise<void> {
  // Loaded here: the parent side of this file must not pull the app in.
  const { startBenchServer } = await import('./bench-server');
  const send = (r: Reply) => process.send?.(r);
  const server = await startBenchServer({
    mongo: { monitorCommands: true },
    deviceListener: true,
    log: (m) => process.stderr.write(`… [store] ${m}\n`),
  });
  const counters: ServerCounters = { dbCommands: 0, dbMs: 0, handshakes: 0 };
  let recording: SeenCommand[] | null = null;
  const byRequest = new Map<number, SeenCommand>();
  const client = server.db.getClient();
  client.on('commandStarted', (e: CommandStartedEvent) => {
    counters.dbCommands++;
    if (recording) {
      const seen = {
        text: describeCommand(e),
        ms: NaN,
        background: isBackgroundCommand(e.command as Record<string, unknown>, e.commandName),
      };
      recording.push(seen);
      byRequest.set(e.requestId, seen);
    }
  });
  const ended = (e: CommandSucceededEvent | CommandFailedEvent) => {
    counters.dbMs += e.duration;
    const seen = byRequest.get(e.requestId);
    if (seen) {
      seen.ms = e.duration;
      byRequest.delete(e.requestId);
    }
  };
  client.on('commandSucceeded', ended);
  client.on('commandFailed', ended);
  server.devices?.server.on('secureConnection', () => counters.handshakes++);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
  };
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  process.on('SIGINT', () => undefined); // the parent stops us (a Ctrl-C reaches the group)
  process.on('message', (req: Request) => {
    const reply = (value: unknown) => send({ kind: 'reply', id: req.id, value });
    switch (req.kind) {
      case 'counters':
        return reply({ ...counters });
      case 'record':
        recording = [];
        byRequest.clear();
        return reply(null);
      case 'mark':
        return reply(recording?.length ?? 0);
      case 'recorded': {
        const out = recording ?? [];
        recording = null;
        return reply(out);
      }
      case 'stop':
        void stop().then(() => {
          reply(null);
          process.disconnect();
        });
    }
  });
  send({
    kind: 'ready',
    pid: process.pid,
    adminUrl: server.baseUrl,
    deviceUrl: `https://127.0.0.1:${server.devices?.port ?? 0}`,
    token: server.token,
    storeKind: server.storeKind,
    storeDescription: server.storeDescription,
    storeUri: server.storeUri,
    storeDataDir: server.storeDataDir,
  });
}

/** The parent's handle on the server process. */
export interface ServerHandle extends Omit<ServerReady, 'kind'> {
  counters(): Promise<ServerCounters>;
  record(): Promise<void>;
  mark(): Promise<number>;
  recorded(): Promise<SeenCommand[]>;
  /** Stops the app and its store and waits for the process to exit. Idempotent. */
  close(): Promise<void>;
}

/** Execute a TypeScript file of this repository in a child process (ts-node, no type check). */
export function forkTs(file: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  return fork(file, args, {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '..', '..', 'tsconfig.json'), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Starts the server process and resolves once it listens (or rejects with its failure). */
export function forkServer(env?: NodeJS.ProcessEnv): Promise<ServerHandle> {
  const child = forkTs(__filename, ['--server-process'], env);
  let next = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      // A question the server can no longer answer fails instead of hanging the bench.
      for (const p of pending.values()) p.reject(new Error('the server process has exited'));
      pending.clear();
      resolve();
    }),
  );
  const ask = <T>(kind: Request['kind']): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error('the server process has exited'));
      const id = ++next;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ kind, id } as Request);
    });
  return new Promise<ServerHandle>((resolve, reject) => {
    child.once('exit', (code, signal) => {
      reject(new Error(`the server process exited before it was ready (${code ?? signal})`));
    });
    child.on('message', (m: Reply) => {
      if (m.kind === 'failed') reject(new Error(m.message));
      else if (m.kind === 'reply') {
        pending.get(m.id)?.resolve(m.value);
        pending.delete(m.id);
      } else if (m.kind === 'ready') {
        const { kind: _kind, ...ready } = m;
        let closing: Promise<void> | undefined;
        resolve({
          ...ready,
          counters: () => ask<ServerCounters>('counters'),
          record: () => ask<void>('record'),
          mark: () => ask<number>('mark'),
          recorded: () => ask<SeenCommand[]>('recorded'),
          close: () =>
            (closing ??= (async () => {
              // A server stuck behind a saturated store is killed after 30 s; its store
              // processes would outlive it, so they are stopped too.
              const killer = setTimeout(() => {
                const orphans = descendantsOf(child.pid ?? 0, listProcesses());
                child.kill('SIGKILL');
                for (const p of orphans) {
                  try {
                    process.kill(p.pid, 'SIGTERM');
                  } catch {
                    // already gone
                  }
                }
              }, 30_000);
              if (child.connected) await ask('stop').catch(() => undefined);
              await exited;
              clearTimeout(killer);
            })()),
        });
      }
    });
  });
}

if (process.argv.includes('--server-process') && process.send) {
  runChild().catch((e: unknown) => {
    process.send?.({
      kind: 'failed',
      message: e instanceof Error ? (e.stack ?? e.message) : String(e),
    } satisfies Reply);
    process.exit(1);
  });
}
