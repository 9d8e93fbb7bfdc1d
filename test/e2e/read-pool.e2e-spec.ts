import 'reflect-metadata';
import { getConnectionToken } from '@nestjs/mongoose';
import type { CommandStartedEvent } from 'mongodb';
import type { Connection } from 'mongoose';
import { READ_CONNECTION, ReadModels, readPoolUri } from '../../src/common/mongo/read-pool';
import { bearer, startTestApp, type TestApp } from '../support/app';
import { commandsUrl } from '../support/seed';
import {
  deviceMessage,
  getCmd,
  managedDevice,
  openingCommands,
  queue,
  rawPost,
  readBatch,
  type Managed,
} from '../support/syncml-device';

// decisions.md §45: on a store reached through one connection (the embedded FerretDB), reads
// that cannot race a conditional update go through a pool of their own, and so do plain inserts
// (§57); every other write stays on the single connection. Which connection a command went
// through is told by the client it started on: the read pool's client emits its own events (and
// forwards them to the main client, where benches and the query-shape recorder listen), so
// "main only" = seen on main, not on reads.

let t: TestApp;
let reads: Connection;
let separate: boolean;
const onMain: CommandStartedEvent[] = [];
const onReads = new Set<CommandStartedEvent>();

beforeAll(async () => {
  // The tests tell which connection a request's commands took from the commands started while
  // it ran: the profile planner's and the backfill's background passes (their own finds on the
  // main connection, e.g. the purge of deleted profiles) would land in that window at random.
  t = await startTestApp(
    __filename,
    { PROFILE_PLANNER: 'false', PROFILE_PARTITION_BACKFILL: 'false' },
    { mongo: { monitorCommands: true } },
  );
  reads = t.app.get<Connection>(getConnectionToken(READ_CONNECTION));
  separate = t.app.get(ReadModels).separate;
  t.db.getClient().on('commandStarted', (e: CommandStartedEvent) => onMain.push(e));
  if (separate) reads.getClient().on('commandStarted', (e: CommandStartedEvent) => onReads.add(e));
});

afterAll(async () => {
  await t?.close();
});

/** The commands started while `act` ran: `<command> <collection>`, by connection. */
async function commandsOf(
  act: () => Promise<unknown>,
): Promise<{ reads: string[]; writes: string[] }> {
  const from = onMain.length;
  await act();
  const seen = onMain.slice(from);
  const name = (e: CommandStartedEvent) => `${e.commandName} ${String(e.command[e.commandName])}`;
  return {
    reads: seen.filter((e) => onReads.has(e)).map(name),
    writes: seen.filter((e) => !onReads.has(e)).map(name),
  };
}

it('has a read pool of its own exactly when the URI limits the store to one connection', () => {
  expect(separate).toBe(readPoolUri(t.uri) !== undefined);
  if (separate) {
    expect(reads).not.toBe(t.db);
    expect(reads.getClient()).not.toBe(t.db.getClient());
  } else {
    expect(reads).toBe(t.db);
  }
});

describe('on the embedded store (one connection for writes)', () => {
  let d: Managed;

  beforeAll(async () => {
    d = await managedDevice(t);
  });

  it('enqueue: the organization read and the inserts on the pool, the conditional updates on the single connection', async () => {
    if (!separate) return expect(readPoolUri(t.uri)).toBeUndefined();
    let batchId = '';
    const trips = await commandsOf(async () => {
      batchId = (await queue(t, d, [getCmd('./DevDetail/SwV')])).id;
    });
    // §57: new documents (the batch, its commands, the audit record) are plain inserts.
    expect(trips.reads.sort()).toEqual([
      'find organizations',
      'insert audit_records',
      'insert win_command_batches',
      'insert win_commands',
    ]);
    // The queue marker's bracket (§16): opened before the inserts, settled after them.
    expect(trips.writes).toEqual(['findAndModify win_devices', 'update win_devices']);

    // The REST reads of the batch: all on the read pool, and they see what was just written.
    const read = await commandsOf(async () => {
      const batch = await readBatch(t, d, batchId);
      expect(batch.commands.map((c) => c.status)).toEqual(['Pending']);
      const list = await t.http.get(commandsUrl(d)).set(bearer(d.token));
      expect(list.status).toBe(200);
      expect(list.body.data.docs.map((b: { id: string }) => b.id)).toContain(batchId);
    });
    expect(read.writes).toEqual([]);
    expect(read.reads).toEqual(
      expect.arrayContaining([
        'find organizations',
        'find win_devices',
        'find win_command_batches',
        'find win_commands',
      ]),
    );
  });

  it("an idle check-in's one read runs on the read pool and writes nothing", async () => {
    if (!separate) return expect(readPoolUri(t.uri)).toBeUndefined();
    const other = await managedDevice(t, d);
    const open = (sessionId: string) =>
      rawPost(
        t,
        other.creds,
        deviceMessage({
          deviceId: other.deviceId,
          sessionId,
          msgId: 1,
          commands: openingCommands(other.deviceId),
        }),
      );
    // The first session records the device's inventory; the next one has nothing to write.
    expect((await open('1')).status).toBe(200);
    const trips = await commandsOf(async () => expect((await open('2')).status).toBe(200));
    expect(trips).toEqual({ reads: ['find win_devices'], writes: [] });
  });
});
