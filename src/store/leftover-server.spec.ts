import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedStore } from './embedded-store';
import { recordServer, SERVER_RECORD_FILE, stopLeftoverServer } from './leftover-server';
import { isRunning } from './processes';

// The first run on a machine may build FerretDB (minutes with a cold Go cache).
jest.setTimeout(15 * 60_000);

let scratch: string;
let dataDir: string;
const pids: number[] = [];

beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mullion-leftover-'));
  dataDir = join(scratch, 'data');
  await mkdir(dataDir);
});
afterEach(async () => {
  // Whatever an assertion left running must not outlive the test.
  pids.splice(0).forEach((pid) => isRunning(pid) && process.kill(pid, 'SIGKILL'));
  await rm(scratch, { recursive: true, force: true });
});

/** A long-running process with the given arguments, as a stand-in for a store server. */
async function idleProcess(...args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)', ...args]);
  await once(child, 'spawn');
  pids.push(child.pid!);
  return child;
}

describe('stopLeftoverServer', () => {
  it('stops a recorded server still running on this data directory', async () => {
    const server = await idleProcess('--', `--state-dir=${dataDir}`);
    const exited = once(server, 'exit');
    await recordServer(dataDir, {
      pid: server.pid!,
      kind: 'ferretdb',
      command: process.execPath,
      port: 1,
    });
    const lines: string[] = [];

    await stopLeftoverServer(dataDir, (line) => lines.push(line));
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(lines.join('\n')).toContain(
      `stopping ferretdb (pid ${server.pid}, port 1) left running on ${dataDir}`,
    );
    expect(existsSync(join(dataDir, SERVER_RECORD_FILE))).toBe(false);
  });

  it('leaves alone a recorded pid that now runs something else', async () => {
    const otherDir = await idleProcess('--', `--state-dir=${join(scratch, 'other')}`);
    const otherProgram = await idleProcess('--', `--state-dir=${dataDir}`);
    for (const [child, command] of [
      [otherDir, process.execPath],
      [otherProgram, '/usr/local/bin/ferretdb'],
    ] as const) {
      await recordServer(dataDir, { pid: child.pid!, kind: 'ferretdb', command, port: 1 });
      await stopLeftoverServer(dataDir, () => undefined);
      expect(isRunning(child.pid!)).toBe(true);
      expect(existsSync(join(dataDir, SERVER_RECORD_FILE))).toBe(false);
    }
  });
});

describe('a store whose parent was killed with SIGKILL', () => {
  it('is stopped by the next start on the same data directory, which then has its data', async () => {
    // A parent that starts the real store, writes to it, reports it, and idles until killed.
    const script = `
      require('ts-node').register({ transpileOnly: true });
      const { MongoClient } = require('mongodb');
      const { startEmbeddedStore } = require(${JSON.stringify(join(__dirname, 'embedded-store'))});
      (async () => {
        const store = await startEmbeddedStore({ dataDir: ${JSON.stringify(dataDir)}, log: () => {} });
        const client = await new MongoClient(store.uri).connect();
        await client.db('leftover').collection('c').insertOne({ written: 'before the kill' });
        await client.close();
        process.stdout.write(JSON.stringify({ pid: store.pid, postgresPid: store.postgresPid }) + '\\n');
        setInterval(() => undefined, 1000);
      })();`;
    const parent = spawn(process.execPath, ['-e', script], {
      cwd: resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const orphan = JSON.parse(line.toString()) as { pid: number; postgresPid?: number };
    pids.push(orphan.pid);
    if (orphan.postgresPid) pids.push(orphan.postgresPid);
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    // The server outlived its parent. Its pipes to the parent are broken, so it would die at
    // its next log line; an idle one logs nothing at level warn.
    expect(isRunning(orphan.pid)).toBe(true);
    // On PostgreSQL its postmaster was orphaned with it, holding postmaster.pid.
    if (orphan.postgresPid) expect(isRunning(orphan.postgresPid)).toBe(true);

    const lines: string[] = [];
    const store = await startEmbeddedStore({ dataDir, log: (l) => lines.push(l) });
    try {
      expect(isRunning(orphan.pid)).toBe(false);
      expect(store.pid).not.toBe(orphan.pid);
      expect(lines.join('\n')).toContain(`stopping ${store.kind} (pid ${orphan.pid}`);
      if (orphan.postgresPid) {
        expect(isRunning(orphan.postgresPid)).toBe(false);
        expect(lines.join('\n')).toContain(`stopping PostgreSQL (pid ${orphan.postgresPid})`);
      }
      const after = await new MongoClient(store.uri).connect();
      const found = await after.db('leftover').collection('c').findOne({});
      await after.close();
      expect(found).toMatchObject({ written: 'before the kill' });
    } finally {
      await store.stop();
    }
    expect(isRunning(store.pid)).toBe(false);
    expect(existsSync(join(dataDir, SERVER_RECORD_FILE))).toBe(false);
  });
});
