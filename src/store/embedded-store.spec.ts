import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, ObjectId, type Collection } from 'mongodb';
import { startEmbeddedStore, type EmbeddedStore } from './embedded-store';

// The first run on a machine may build FerretDB (about 5 minutes with cold Go caches on 2 cores).
const START_TIMEOUT_MS = 15 * 60_000;
jest.setTimeout(30_000);

const quiet = (): void => undefined;

interface CommandDoc {
  cmdId: string;
  batchId?: ObjectId;
  position?: number;
  status?: string;
  data?: string[];
  attempts?: number;
  hits?: number;
  winner?: number;
  createdAt?: Date;
  sentAt?: Date;
  canceledAt?: Date;
}

/**
 * The real store (mongod or FerretDB), and the Mongo features the repositories rely on — each
 * checked here because FerretDB 1.24 implements only part of MongoDB and fails some things
 * silently (e.g. `$project: {x: '$field'}` returns the literal string).
 */
describe('startEmbeddedStore', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let client: MongoClient;
  let commands: Collection<CommandDoc>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mullion-store-spec-'));
    store = await startEmbeddedStore({ dataDir, log: quiet });
    client = await new MongoClient(store.uri).connect();
    commands = client.db('store_spec').collection<CommandDoc>('win_commands');
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await client?.close();
    await store?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('listens on loopback only and answers ping', async () => {
    expect(store.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\//);
    expect(['mongod', 'ferretdb']).toContain(store.kind);
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  it('writes and reads back a document, dates and ObjectIds intact', async () => {
    const doc = { _id: new ObjectId(), cmdId: 'rw-1', sentAt: new Date('2024-05-01T10:00:00Z') };
    await commands.insertOne(doc);
    await expect(commands.findOne({ _id: doc._id })).resolves.toEqual(doc);
  });

  it('reports unique violations of single and compound indexes as E11000', async () => {
    const devices = client.db('store_spec').collection('win_devices');
    await devices.createIndex({ winEnterpriseId: 1, deviceId: 1 }, { unique: true });
    const enterprise = new ObjectId();
    await devices.insertOne({ winEnterpriseId: enterprise, deviceId: 'D1' });
    // Same deviceId in another enterprise is fine.
    await devices.insertOne({ winEnterpriseId: new ObjectId(), deviceId: 'D1' });
    const duplicate = devices.insertOne({ winEnterpriseId: enterprise, deviceId: 'D1' });
    await expect(duplicate).rejects.toMatchObject({ code: 11000, message: /E11000/ });

    await commands.createIndex({ cmdId: 1 }, { unique: true });
    await commands.insertOne({ cmdId: 'uniq-1' });
    await expect(commands.insertOne({ cmdId: 'uniq-1' })).rejects.toMatchObject({ code: 11000 });
  });

  it('applies a conditional findOneAndUpdate once, returning the document after it', async () => {
    await commands.insertOne({ cmdId: 'fau-1', status: 'Pending', attempts: 0 });
    const filter = { cmdId: 'fau-1', status: 'Pending' };
    const update = { $set: { status: 'Awaiting', sentAt: new Date() }, $inc: { attempts: 1 } };

    const first = await commands.findOneAndUpdate(filter, update, { returnDocument: 'after' });
    expect(first).toMatchObject({ cmdId: 'fau-1', status: 'Awaiting', attempts: 1 });
    await expect(
      commands.findOneAndUpdate(filter, update, { returnDocument: 'after' }),
    ).resolves.toBeNull();
  });

  // FerretDB 1.x updates without a transaction between read and write; the store's URI
  // (maxPoolSize=1) must make this process's racing updates safe anyway.
  it('lets exactly one of many racing conditional updates win, and loses no $inc', async () => {
    await commands.insertOne({ cmdId: 'race-1', status: 'Pending', hits: 0 });
    const racers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        commands.findOneAndUpdate(
          { cmdId: 'race-1', status: 'Pending' },
          { $set: { status: 'Awaiting', winner: i } },
        ),
      ),
    );
    expect(racers.filter((r) => r !== null)).toHaveLength(1);

    await Promise.all(
      Array.from({ length: 50 }, () =>
        commands.updateOne({ cmdId: 'race-1' }, { $inc: { hits: 1 } }),
      ),
    );
    await expect(commands.findOne({ cmdId: 'race-1' })).resolves.toMatchObject({ hits: 50 });
  });

  describe('with a batch of ten commands', () => {
    const batchId = new ObjectId();
    const base = Date.UTC(2024, 0, 1);

    beforeAll(async () => {
      await commands.insertMany(
        Array.from({ length: 10 }, (_, i) => ({
          cmdId: `b-${i}`,
          batchId,
          position: i % 3,
          status: 'Pending',
          createdAt: new Date(base + Math.floor(i / 3) * 1000),
          data: [],
        })),
      );
    });

    it('updateMany with conditions, then countDocuments and $in', async () => {
      const result = await commands.updateMany(
        { batchId, status: 'Pending', cmdId: { $in: ['b-7', 'b-8', 'b-9', 'nope'] } },
        { $set: { status: 'Cancel', canceledAt: new Date() } },
      );
      expect(result).toMatchObject({ matchedCount: 3, modifiedCount: 3 });
      await expect(commands.countDocuments({ batchId, status: 'Pending' })).resolves.toBe(7);
      await expect(commands.countDocuments({ batchId, status: { $in: ['Cancel'] } })).resolves.toBe(
        3,
      );
    });

    it('sorts on two keys, then skips and limits', async () => {
      // createdAt groups: b-9 | b-6 b-7 b-8 | b-3 b-4 b-5 | …, position ascending inside each.
      const page = await commands
        .find({ batchId })
        .sort({ createdAt: -1, position: 1 })
        .skip(2)
        .limit(3)
        .toArray();
      expect(page.map((d) => d.cmdId)).toEqual(['b-7', 'b-8', 'b-3']);
    });

    it('combines $set, $inc and $push in one update', async () => {
      await commands.updateOne(
        { cmdId: 'b-0' },
        { $set: { status: 'Acknowledged' }, $inc: { attempts: 2 }, $push: { data: 'first' } },
      );
      await commands.updateOne({ cmdId: 'b-0' }, { $push: { data: { $each: ['2nd', '3rd'] } } });
      await expect(commands.findOne({ cmdId: 'b-0' })).resolves.toMatchObject({
        status: 'Acknowledged',
        attempts: 2,
        data: ['first', '2nd', '3rd'],
      });
    });

    it('counts statuses with $match and $group', async () => {
      const summary = await commands
        .aggregate<{ _id: string; count: number }>([
          { $match: { batchId } },
          { $group: { _id: '$status', count: { $sum: 1 } } },
          { $sort: { _id: 1 } },
        ])
        .toArray();
      expect(summary).toEqual([
        { _id: 'Acknowledged', count: 1 },
        { _id: 'Cancel', count: 3 },
        { _id: 'Pending', count: 6 },
      ]);
    });
  });

  it('$setOnInsert with upsert inserts once, then only updates', async () => {
    const sessions = client.db('store_spec').collection('syncml_sessions');
    await sessions.createIndex({ device: 1 }, { unique: true });
    const upsert = (sessionId: string, msgId: number) =>
      sessions.updateOne(
        { device: 'dev-1' },
        { $setOnInsert: { msgId }, $set: { sessionId } },
        { upsert: true },
      );
    await expect(upsert('S1', 1)).resolves.toMatchObject({ upsertedCount: 1 });
    await expect(upsert('S2', 99)).resolves.toMatchObject({ upsertedCount: 0, matchedCount: 1 });
    await expect(sessions.find({ device: 'dev-1' }).toArray()).resolves.toEqual([
      expect.objectContaining({ msgId: 1, sessionId: 'S2' }),
    ]);
  });
});
