import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { resolveMongoUri, startEmbeddedStore } from './embedded-store';
import {
  FERRETDB_BUILD,
  ferretdbBinaryPath,
  findOnPath,
  isExecutableFile,
  mullionCacheDir,
} from './paths';
import { StoreUnavailableError } from './errors';
import { locateServer } from './server-binary';

// The first run on a machine may build FerretDB (about 5 minutes with cold Go caches on 2 cores).
const START_TIMEOUT_MS = 15 * 60_000;
jest.setTimeout(START_TIMEOUT_MS);

const quiet = (): void => undefined;

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mullion-store-life-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

function portOf(uri: string): number {
  return Number(/:(\d+)\//.exec(uri)?.[1]);
}

function portIsOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (open: boolean): void => {
      socket.destroy();
      done(open);
    };
    socket.once('connect', () => finish(true)).once('error', () => finish(false));
  });
}

/** Pids whose command line mentions `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) && isRunning(+pid);
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

/** Alive and not a zombie (a container's init may never reap an orphan). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/^\d+ \(.*\) Z/.test(readFileSync(stat, 'utf8'));
}

/** Cleanup after a failed assertion: an orphaned server must not outlive the test. */
function killIfRunning(pid: number): void {
  if (pid > 0 && isRunning(pid)) {
    process.kill(pid, 'SIGKILL');
  }
}

async function waitUntilGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid) && Date.now() < deadline) {
    await sleep(50);
  }
  return !isRunning(pid);
}

describe('embedded store lifecycle', () => {
  it('stop() closes the port and ends the process; a second stop() is harmless', async () => {
    const store = await startEmbeddedStore({ dataDir: join(scratch, 'data'), log: quiet });
    const port = portOf(store.uri);
    expect(await portIsOpen(port)).toBe(true);
    await store.stop();
    expect(await portIsOpen(port)).toBe(false);
    expect(isRunning(store.pid)).toBe(false);
    await expect(store.stop()).resolves.toBeUndefined();
  });

  it('refuses a taken port with the reason, and leaves no process behind', async () => {
    const first = await startEmbeddedStore({ dataDir: join(scratch, 'a'), log: quiet });
    try {
      const second = startEmbeddedStore({
        dataDir: join(scratch, 'b'),
        port: portOf(first.uri),
        log: quiet,
      });
      // Either the child's own "address already in use", or our check that the server
      // answering on that port is not our child.
      await expect(second).rejects.toThrow(/did not start[\s\S]*(already in use|not by ours)/i);
      expect(processesMentioning(join(scratch, 'b'))).toEqual([]);
      const client = await new MongoClient(first.uri).connect();
      await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
      await client.close();
    } finally {
      await first.stop();
    }
  });

  /** Runs a node child that starts a store, reports its pid, then does `then`. */
  async function orphanCandidate(
    then: string,
  ): Promise<{ child: ChildProcess; pid: number; postgresPid: number }> {
    const script = `
      require('ts-node').register({ transpileOnly: true });
      const { startEmbeddedStore } = require(${JSON.stringify(join(__dirname, 'embedded-store'))});
      startEmbeddedStore({ dataDir: ${JSON.stringify(join(scratch, 'data'))}, log: () => {} })
        .then((store) => {
          process.stdout.write(store.pid + ' ' + (store.postgresPid || 0) + '\\n'); ${then}
        });`;
    const child = spawn(process.execPath, ['-e', script], {
      cwd: resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const [pid, postgresPid] = line.toString().trim().split(' ').map(Number);
    return { child, pid, postgresPid };
  }

  it('kills the server when the parent calls process.exit() without stopping it', async () => {
    const { child, pid, postgresPid } = await orphanCandidate('process.exit(0);');
    try {
      expect(pid).toBeGreaterThan(0);
      await once(child, 'exit');
      expect(await waitUntilGone(pid, 10_000)).toBe(true);
      // PostgreSQL, when FerretDB runs on it, gets its fast-shutdown signal too.
      if (postgresPid) expect(await waitUntilGone(postgresPid, 30_000)).toBe(true);
    } finally {
      killIfRunning(pid);
      killIfRunning(postgresPid);
    }
  });

  it('kills the server when an unhandled SIGTERM ends the parent, which still dies of it', async () => {
    const { child, pid, postgresPid } = await orphanCandidate(
      'setInterval(() => undefined, 1000);',
    );
    try {
      expect(isRunning(pid)).toBe(true);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      expect(await exited).toEqual([null, 'SIGTERM']);
      expect(await waitUntilGone(pid, 10_000)).toBe(true);
      if (postgresPid) expect(await waitUntilGone(postgresPid, 30_000)).toBe(true);
    } finally {
      killIfRunning(pid);
      killIfRunning(postgresPid);
    }
  });

  it('says how to set MONGODB_URI when there is neither mongod nor go', async () => {
    const env = { PATH: join(scratch, 'empty-bin'), MULLION_CACHE_DIR: join(scratch, 'cache') };
    const attempt = startEmbeddedStore({ dataDir: join(scratch, 'data'), env, log: quiet });
    await expect(attempt).rejects.toThrow(StoreUnavailableError);
    await expect(attempt).rejects.toThrow(/export MONGODB_URI='mongodb:\/\/127\.0\.0\.1:27017/);
  });

  it('explains a failed FerretDB build and releases the build lock', async () => {
    const bin = join(scratch, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'go'), '#!/bin/sh\necho "go: simulated failure" >&2\nexit 1\n');
    await chmod(join(bin, 'go'), 0o755);
    const cache = join(scratch, 'cache');
    const env = { PATH: `${bin}${delimiter}/usr/bin${delimiter}/bin`, MULLION_CACHE_DIR: cache };
    const attempt = startEmbeddedStore({ dataDir: join(scratch, 'data'), env, log: quiet });
    await expect(attempt).rejects.toThrow(StoreUnavailableError);
    await expect(attempt).rejects.toThrow(
      /Building FerretDB v1\.24\.2 failed[\s\S]*MONGODB_URI[\s\S]*simulated failure/,
    );
    expect(readdirSync(join(cache, `ferretdb-${FERRETDB_BUILD}`))).toEqual([]);
  });

  // A stand-in `mongod` that runs FerretDB: proves mongod is preferred when on PATH and that the
  // flags we pass it carry the data directory, address and port.
  const ferretdbObtainable =
    isExecutableFile(ferretdbBinaryPath(mullionCacheDir())) || findOnPath('go') !== undefined;
  (ferretdbObtainable ? it : it.skip)('prefers a mongod found on PATH', async () => {
    const pathWithoutMongod = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((dir) => !isExecutableFile(join(dir, 'mongod')))
      .join(delimiter);
    const ferretdb = await locateServer({ ...process.env, PATH: pathWithoutMongod }, quiet);
    const bin = join(scratch, 'bin');
    await mkdir(bin);
    await writeFile(
      join(bin, 'mongod'),
      [
        '#!/bin/sh',
        'while [ $# -gt 0 ]; do case "$1" in',
        '  --dbpath) d=$2; shift 2;; --bind_ip) h=$2; shift 2;; --port) p=$2; shift 2;;',
        '  *) shift;; esac; done',
        `exec "${ferretdb.command}" --handler=sqlite --sqlite-url="file:$d/" --listen-addr="$h:$p" \\`,
        '  --telemetry=disable --debug-addr=- --state-dir="$d" --log-level=error',
      ].join('\n'),
    );
    await chmod(join(bin, 'mongod'), 0o755);

    const dataDir = join(scratch, 'mongod-data');
    const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
    const store = await startEmbeddedStore({ dataDir, env, log: quiet });
    try {
      expect(store.kind).toBe('mongod');
      expect(store.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
      const client = await new MongoClient(store.uri).connect();
      await client.db('lifecycle').collection('c').insertOne({ ok: true });
      await client.close();
      expect(existsSync(join(dataDir, 'lifecycle.sqlite'))).toBe(true);
    } finally {
      await store.stop();
    }
  });
});

describe('resolveMongoUri', () => {
  it('uses MONGODB_URI as it is, starting nothing', async () => {
    const dataDir = join(scratch, 'never-created');
    const resolved = await resolveMongoUri(
      { MONGODB_URI: ' mongodb://db.example:27017/prod ' },
      { dataDir },
    );
    expect(resolved).toMatchObject({ uri: 'mongodb://db.example:27017/prod', source: 'external' });
    await resolved.stop();
    expect(existsSync(dataDir)).toBe(false);
  });

  it('otherwise starts the embedded store and names the database', async () => {
    const { MONGODB_URI: _ignored, ...env } = process.env;
    const resolved = await resolveMongoUri(env, { dataDir: join(scratch, 'data'), log: quiet });
    try {
      expect(resolved.source).not.toBe('external');
      expect(resolved.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/mullion(\?|$)/);
      const client = await new MongoClient(resolved.uri).connect();
      await expect(client.db().command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
      expect(client.db().databaseName).toBe('mullion');
      await client.close();
    } finally {
      await resolved.stop();
    }
  });
});
