import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import {
  INSTANCE_LEASE_COLLECTION,
  InstanceLeaseHeldError,
  isFerretDb,
  takeInstanceLease,
} from '../../src/common/mongo/instance-lease';
import { databaseOf } from '../../src/store/mongo-uri';
import { freeLoopbackPort } from '../../src/store/free-port';
import { TEST_JWT_SECRET } from '../support/app';
import { dropTestDatabase, testDatabaseUri } from '../support/store';

// Issue 9 "Running more than one instance": the real entry point (src/main.ts), started as a
// process against the test store through MONGODB_URI, twice.

const REPO = resolve(__dirname, '..', '..');

interface Running {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

type Outcome =
  { kind: 'listening'; run: Running } | { kind: 'exited'; code: number | null; output: string };

const uri = testDatabaseUri(__filename);
const dataDirs: string[] = [];
const children: ChildProcess[] = [];

async function start(): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mullion-lease-'));
  dataDirs.push(dataDir);
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      MONGODB_URI: uri,
      JWT_SECRET: TEST_JWT_SECRET,
      HOST: '127.0.0.1',
      PORT: String(await freeLoopbackPort()),
      DEVICE_PORT: '0',
      DATA_DIR: dataDir,
      LOG_REQUESTS: 'false',
      ENROLLMENT_CA_KEY_BITS: '2048',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const run: Running = { child, output: () => out, exited };
  return new Promise<Outcome>((resolveOutcome) => {
    const onData = () => {
      if (out.includes('mullion listening')) {
        child.stdout!.off('data', onData);
        resolveOutcome({ kind: 'listening', run });
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => resolveOutcome({ kind: 'exited', code, output: out }));
  });
}

async function stop(run: Running): Promise<number | null> {
  run.child.kill('SIGTERM');
  return run.exited;
}

async function leaseDoc(): Promise<Record<string, unknown> | null> {
  const client = new MongoClient(uri);
  try {
    await client.connect();
    // The instance lease, not a background job's (they share the collection).
    return await client
      .db(databaseOf(uri)!)
      .collection<{ _id: string }>(INSTANCE_LEASE_COLLECTION)
      .findOne({ _id: 'primary' });
  } finally {
    await client.close();
  }
}

let ferret = false;
beforeAll(async () => {
  const client = new MongoClient(uri);
  try {
    await client.connect();
    ferret = await isFerretDb(client.db(databaseOf(uri)!));
  } finally {
    await client.close();
  }
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  await dropTestDatabase(uri).catch(() => undefined);
});

it('refuses a second instance on the same FerretDB store, naming the first; after it stops, a new one starts', async () => {
  const first = await start();
  if (first.kind !== 'listening') throw new Error(`first start failed:\n${first.output}`);
  if (!ferret) {
    // MongoDB: several instances are the documented way to scale; no lease.
    const second = await start();
    expect(second.kind).toBe('listening');
    if (second.kind === 'listening') expect(await stop(second.run)).toBe(0);
    expect(await stop(first.run)).toBe(0);
    expect(await leaseDoc()).toBeNull();
    return;
  }
  const lease = await leaseDoc();
  expect(lease).toMatchObject({ _id: 'primary', pid: first.run.child.pid });

  const second = await start();
  expect(second.kind).toBe('exited');
  if (second.kind !== 'exited') throw new Error('the second instance started');
  expect(second.code).not.toBe(0);
  expect(second.output).toContain('Another mullion instance uses this FerretDB store');
  expect(second.output).toContain(`pid ${first.run.child.pid}`);
  expect(second.output).toContain('use MongoDB (set MONGODB_URI)');
  expect(second.output).not.toContain('mullion listening');

  // Released on close: the next instance starts at once, without waiting for the lease to expire.
  expect(await stop(first.run)).toBe(0);
  expect(await leaseDoc()).toBeNull();
  const third = await start();
  if (third.kind !== 'listening') throw new Error(`third start failed:\n${third.output}`);
  expect(await leaseDoc()).toMatchObject({ pid: third.run.child.pid });
  expect(await stop(third.run)).toBe(0);
  // Three app starts under ts-node (transpile-only): ~30 s each on a loaded 2-core runner.
}, 240_000);

describe('the lease itself', () => {
  let client: MongoClient;
  let dbUri: string;
  beforeAll(async () => {
    dbUri = testDatabaseUri(`${__filename}-lease`);
    client = new MongoClient(dbUri);
    await client.connect();
  });
  afterAll(async () => {
    await client.close();
    await dropTestDatabase(dbUri).catch(() => undefined);
  });
  const db = () => client.db(databaseOf(dbUri)!);
  const leases = () => db().collection<{ _id: string }>(INSTANCE_LEASE_COLLECTION);

  it('is taken over once its holder stopped renewing it (expired), not before', async () => {
    const expiresAt = new Date(Date.now() + 60_000);
    await leases().insertOne({
      _id: 'primary',
      holder: 'dead',
      host: 'elsewhere',
      pid: 1,
      startedAt: new Date(0),
      expiresAt,
    } as { _id: string });
    if (!ferret) {
      expect(await takeInstanceLease(db())).toBeNull();
      return;
    }
    await expect(takeInstanceLease(db())).rejects.toThrow(InstanceLeaseHeldError);
    const later = () => new Date(expiresAt.getTime() + 1);
    const lease = await takeInstanceLease(db(), { now: later });
    expect(lease).not.toBeNull();
    expect(await leases().findOne({})).toMatchObject({ holder: lease!.holder, pid: process.pid });
    await lease!.release();
    expect(await leases().countDocuments()).toBe(0);
  });

  it("is taken at once when its holder's process on this host is gone", async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await leases().insertOne({
      _id: 'primary',
      holder: 'killed',
      host: hostname(),
      pid: dead,
      startedAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    } as { _id: string });
    if (!ferret) return expect(await takeInstanceLease(db())).toBeNull();
    const lease = await takeInstanceLease(db());
    expect(await leases().findOne({})).toMatchObject({ holder: lease!.holder });
    await lease!.release();
    // A live process on this host keeps it (this one's parent stands in for a running instance).
    await leases().insertOne({
      _id: 'primary',
      holder: 'alive',
      host: hostname(),
      pid: process.ppid,
      startedAt: new Date(),
      expiresAt: new Date(Date.now() + 60_000),
    } as { _id: string });
    await expect(takeInstanceLease(db())).rejects.toThrow(InstanceLeaseHeldError);
    await leases().deleteMany({});
  });

  it('tells its holder when a renewal finds it taken by another', async () => {
    if (!ferret) return expect(await takeInstanceLease(db())).toBeNull();
    let lost!: (why: string) => void;
    const lostWhy = new Promise<string>((r) => (lost = r));
    const lease = await takeInstanceLease(db(), { renewMs: 5, onLost: (why) => lost(why) });
    await leases().updateOne({ _id: 'primary' }, { $set: { holder: 'intruder' } });
    expect(await lostWhy).toMatch(/taken over/);
    // Giving it up leaves the other holder's lease alone.
    await lease!.release();
    expect(await leases().findOne({})).toMatchObject({ holder: 'intruder' });
  });
});
