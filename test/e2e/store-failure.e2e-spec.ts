import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { READ_CONNECTION, ReadModels } from '../../src/common/mongo/read-pool';
import { startEmbeddedStore, withDatabase, type EmbeddedStore } from '../../src/store';
import { ManagementEndpoint } from '../../src/syncml/management-endpoint';
import { bearer, startTestApp, type TestApp } from '../support/app';
import { RetryingDevice } from '../support/retrying-device';
import { commandsUrl } from '../support/seed';
import {
  deviceMessage,
  managedDevice,
  openingCommands,
  devicePost,
  rawPost,
  readBatch,
  type Managed,
} from '../support/syncml-device';

// The store dies under load (issue 9, "The store dies"): the server's own supervised store on
// a private data directory, killed with SIGKILL while 20 devices poll and a client queues
// batches. Everything below waits on conditions; the deadline only bounds a broken run.
jest.setTimeout(90_000);

const DEVICES = 20;
const ROUNDS = 3;
const PER_BATCH = 2;
// Between two sessions of one device: 20 devices polling back to back would only measure how
// fast one store connection (maxPoolSize=1) serializes them.
const POLL_PAUSE_MS = 400;
// Each store call during the outage fails after this long (MONGODB_SERVER_SELECTION_TIMEOUT_MS):
// short, so that the gate's queue (below) drains in a few seconds while the store is down.
const SERVER_SELECTION_MS = 500;
// Long enough that the checks made during the outage finish before the restart, the SyncML one
// after waiting its turn in the full gate (21 messages, 4 at a time, 0.5 s each); the test
// checks that they did (pid unchanged).
const RESTART_BACKOFF_MS = 8_000;
// The admission gate (decisions.md §50) is full when the store dies: 4 messages at a time for 20
// devices, the rest wait in its queue (long enough for a message admitted during the outage to
// meet the server selection timeout and answer 503), and every place comes back afterwards. A
// message whose driver command never settles (the store died as it was written) is answered 503
// at the deadline: without it, such messages held their places for good (1 run in 6).
const GATE = { concurrent: 4, queued: 64, waitSeconds: 10, deadlineSeconds: 3 };

let dataDir: string;
let store: EmbeddedStore;
let t: TestApp;
let gaveUp: string | undefined;
const storeLog: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mullion-storedies-'));
  store = await startEmbeddedStore({
    dataDir: join(dataDir, 'store'),
    log: (line) => storeLog.push(line),
    supervise: {
      maxRestarts: 3,
      windowMs: 60_000,
      initialBackoffMs: RESTART_BACKOFF_MS,
      maxBackoffMs: RESTART_BACKOFF_MS,
      onGiveUp: (reason) => (gaveUp = reason),
    },
  });
  t = await startTestApp(
    __filename,
    {
      // A request that dies with the store cannot release its device's lock: it expires instead.
      SYNCML_LOCK_MS: '1500',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: String(SERVER_SELECTION_MS),
      SYNCML_MAX_CONCURRENT: String(GATE.concurrent),
      SYNCML_MAX_QUEUED: String(GATE.queued),
      SYNCML_MAX_QUEUE_WAIT_SECONDS: String(GATE.waitSeconds),
      SYNCML_MESSAGE_DEADLINE_SECONDS: String(GATE.deadlineSeconds),
    },
    // monitorCommands: reads answered by the read pool after the restart are counted.
    { uri: withDatabase(store.uri, 'storedies'), mongo: { monitorCommands: true } },
  );
});

afterAll(async () => {
  await t?.close();
  await store?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A device or client that failed for another reason than the outage. */
const failures: unknown[] = [];

/** Polls `check` until it holds; the deadline only ends a run that will not recover. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 30_000,
  explain: () => Promise<string> = async () => '',
) {
  const deadline = performance.now() + ms;
  for (;;) {
    if (failures.length) throw failures[0];
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline)
      throw new Error(`gave up waiting: ${what} ${await explain()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Enqueued {
  key: string;
  device: Managed;
  /** The batch id of every 200 answer to this key (retries included). */
  batchIds: string[];
  unavailable: number;
}

/** POST with an Idempotency-Key, retried with the same key and body on 503 or a broken call. */
async function enqueue(device: Managed, round: number): Promise<Enqueued> {
  const key = `round-${round}-${device.deviceId}`;
  const body = {
    commands: Array.from({ length: PER_BATCH }, (_, i) => ({
      config: { path: `./DevDetail/Ext/Probe/R${round}C${i}`, action: 'Get', format: 'chr' },
    })),
  };
  const out: Enqueued = { key, device, batchIds: [], unavailable: 0 };
  for (;;) {
    const r = await t.http
      .post(commandsUrl(device))
      .set(bearer(device.token))
      .set('Idempotency-Key', key)
      .send(body)
      .catch(() => undefined);
    if (r?.status === 200) {
      out.batchIds.push(r.body.data.id as string);
      return out;
    }
    if (r && r.status !== 503) throw new Error(`enqueue ${key}: ${r.status} ${r.text}`);
    if (r) {
      expect(r.body.error).toEqual({ code: 5003, message: 'Service unavailable' });
      expect(r.headers['retry-after']).toMatch(/^\d+$/);
      out.unavailable++;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

it('survives kill -9 of the store: restarted, 503s meanwhile, nothing lost or applied twice', async () => {
  const first = await managedDevice(t);
  const fleet = [first];
  fleet.push(
    ...(await Promise.all(Array.from({ length: DEVICES - 1 }, () => managedDevice(t, first)))),
  );
  const devices = fleet.map((d) => new RetryingDevice(t, d));
  let polling = true;
  const pollers = devices.map((d) =>
    d
      .poll(() => polling, POLL_PAUSE_MS)
      .catch((e: unknown) => {
        failures.push(e);
      }),
  );
  const executed = () => devices.reduce((n, d) => n + d.executions.size, 0);

  try {
    const enqueued: Enqueued[] = [];
    enqueued.push(...(await Promise.all(fleet.map((d) => enqueue(d, 0)))));
    await until('devices executing commands', async () => (executed() >= 10 ? true : undefined));

    // --- kill -9 the store mid-run, while the client queues the next round -----------------
    const killedPid = store.pid;
    const killedAt = performance.now();
    process.kill(killedPid, 'SIGKILL');
    const duringOutage = Promise.all(fleet.map((d) => enqueue(d, 1)));

    const gate = t.app.get(ManagementEndpoint).gate;
    const [rest, live, ready, syncml, enrollment, gateFull] = await Promise.all([
      t.http.get(`${commandsUrl(first)}`).set(bearer(first.token)),
      t.http.get('/health'),
      t.http.get('/health/ready'),
      rawPost(
        t,
        first.creds,
        deviceMessage({
          deviceId: first.deviceId,
          sessionId: '200',
          msgId: 1,
          commands: openingCommands(first.deviceId),
        }),
      ),
      // GetPolicies authenticates its UsernameToken against the store.
      devicePost(
        t,
        '/EnrollmentServer/Policy.svc',
        null,
        readFileSync(
          join(__dirname, '../../src/enrollment/soap/fixtures/get-policies.xml'),
          'utf8',
        ),
        'application/soap+xml; charset=utf-8',
      ),
      // The polling devices fill the gate while their messages wait on the dead store.
      until('the admission gate full during the outage', async () =>
        gate.inFlight === GATE.concurrent && gate.queued > 0 && store.pid === killedPid
          ? { inFlight: gate.inFlight, queued: gate.queued }
          : undefined,
      ),
    ]);
    const answeredIn = performance.now() - killedAt;
    // These answers came while the store was down: the supervisor had not restarted it yet.
    expect(store.pid).toBe(killedPid);
    expect(rest.status).toBe(503);
    expect(rest.body).toEqual({
      status: false,
      error: { code: 5003, message: 'Service unavailable' },
    });
    expect(rest.headers['retry-after']).toMatch(/^\d+$/);
    expect(live.status).toBe(200); // liveness only
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe(5003);
    // Through the full gate: queued, admitted, and answered 503 by the store's absence.
    expect(gateFull.inFlight).toBe(GATE.concurrent);
    expect(syncml.status).toBe(503);
    expect(syncml.body).not.toContain('<SyncML');
    // enrollment.md §11.1: a fault Windows shows as "try later", with 503 and Retry-After.
    expect(enrollment.status).toBe(503);
    expect(enrollment.retryAfter).toMatch(/^\d+$/);
    expect(enrollment.body).toContain('a:InternalServiceFault');
    expect(enrollment.body).toContain('<ErrorType>InMaintenance</ErrorType>');

    // --- recovery ----------------------------------------------------------------------------
    const readyAt = await until('GET /health/ready = 200', async () => {
      const r = await t.http.get('/health/ready');
      return r.status === 200 ? performance.now() : undefined;
    });
    const sessionAt = await until('a SyncML session completed after the kill', async () => {
      const ends = devices.flatMap((d) => d.sessionsEndedAt).filter((at) => at > readyAt - 1);
      return ends.length ? Math.min(...ends) : undefined;
    });
    expect(store.pid).not.toBe(killedPid);
    expect(gaveUp).toBeUndefined();
    // Both connections came back (decisions.md §45): the read pool serves the device's lock-free
    // reads and the REST reads below, the single connection every write.
    expect(t.app.get(ReadModels).separate).toBe(true);
    let readsAfterRestart = 0;
    t.app
      .get<Connection>(getConnectionToken(READ_CONNECTION))
      .getClient()
      .on('commandSucceeded', () => readsAfterRestart++);
    expect(storeLog.some((l) => /restart 1 of 3/.test(l))).toBe(true);
    expect(storeLog.some((l) => /^store restarted \(pid \d+\)/.test(l))).toBe(true);

    enqueued.push(...(await duringOutage));
    enqueued.push(...(await Promise.all(fleet.map((d) => enqueue(d, 2)))));

    // Every command reaches a final state visible through the API.
    // Waiting on the store directly: polling 60 batches through the API would compete with the
    // devices for the store's single connection. The API is read once, below.
    const open = { status: { $in: ['Pending', 'Awaiting'] } };
    await until(
      'every command final',
      async () => ((await t.db.collection('win_commands').countDocuments(open)) ? undefined : true),
      30_000,
      async () => JSON.stringify(await t.db.collection('win_commands').find(open).toArray()),
    );
    const batches = await Promise.all(enqueued.map((e) => readBatch(t, e.device, e.batchIds[0])));
    expect(readsAfterRestart).toBeGreaterThan(0);
    polling = false;
    await Promise.all(pollers);
    // Every place the outage's messages held came back: none waits on a store call that never
    // settled (the gate would otherwise stay full and refuse every device).
    expect({ inFlight: gate.inFlight, queued: gate.queued }).toEqual({ inFlight: 0, queued: 0 });

    // No batch created twice: one batch per key, retries included, and no other batch.
    for (const e of enqueued) expect(new Set(e.batchIds).size).toBe(1);
    const stored = await t.db.collection('win_command_batches').countDocuments({});
    expect(stored).toBe(DEVICES * ROUNDS);

    // Each command got one final status, and its device executed it exactly once.
    const commands = batches.flatMap((b) => b.commands);
    expect(commands).toHaveLength(DEVICES * ROUNDS * PER_BATCH);
    const executions = new Map(devices.flatMap((d) => [...d.executions]));
    const twice = [...executions.values()].filter((n) => n > 1).length;
    const statuses: Record<string, number> = {};
    for (const c of commands) statuses[c.status] = (statuses[c.status] ?? 0) + 1;
    const retries = devices.reduce(
      (r, d) => ({
        unavailable: r.unavailable + d.retries.unavailable,
        busy: r.busy + d.retries.busy,
        network: r.network + d.retries.network,
      }),
      { unavailable: 0, busy: 0, network: 0 },
    );
    console.log(
      [
        `store killed (pid ${killedPid}) → restarted (pid ${store.pid})`,
        `503 answers during the outage came within ${answeredIn.toFixed(0)} ms of the kill`,
        `recovery: /health/ready 200 after ${(readyAt - killedAt).toFixed(0)} ms, first SyncML ` +
          `session after ${(sessionAt - killedAt).toFixed(0)} ms (restart backoff ${RESTART_BACKOFF_MS} ms)`,
        `REST 503s retried: ${enqueued.reduce((n, e) => n + e.unavailable, 0)}; device retries: ` +
          `${retries.unavailable} after 503, ${retries.busy} after 429, ${retries.network} after a broken connection`,
        `commands: ${JSON.stringify(statuses)}; executed twice by a device: ${twice}`,
      ].join('\n'),
    );
    expect(statuses).toEqual({ Acknowledged: DEVICES * ROUNDS * PER_BATCH });
    expect(twice).toBe(0);
    for (const c of commands) expect(executions.get(c.cmdId)).toBe(1);
    expect(executions.size).toBe(commands.length);
  } finally {
    polling = false;
    await Promise.allSettled(pollers);
    devices.forEach((d) => d.close());
  }
});
