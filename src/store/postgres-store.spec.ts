import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient, ObjectId } from 'mongodb';
import mongoose from 'mongoose';
import { Client } from 'pg';
import { WinCommandSchema } from '../commands/win-command.schema';
import { startEmbeddedStore, type EmbeddedStore } from './embedded-store';
import { isExecutableFile } from './paths';
import { postgresConnection } from './postgres-server';
import { isRunning } from './processes';
import { TWIN_TRIGGER } from './pushdown-indexes';

// The first run on a machine may build FerretDB (about 5 minutes with cold Go caches on 2 cores).
jest.setTimeout(15 * 60_000);

// FerretDB on PostgreSQL is what these tests are about: a mongod on PATH would be preferred.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  STORE_ENGINE: 'postgres',
  PATH: (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !isExecutableFile(join(dir, 'mongod')))
    .join(delimiter),
};
delete env.MONGODB_URI;
// The launcher's own collector settings are asserted below.
delete env.GOGC;
delete env.GOMEMLIMIT;

let scratch: string;
const stores: EmbeddedStore[] = [];
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mullion-pg-store-'));
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.stop()));
  await rm(scratch, { recursive: true, force: true });
});

async function start(dataDir: string, lines: string[] = []): Promise<EmbeddedStore> {
  const store = await startEmbeddedStore({ dataDir, env, log: (line) => lines.push(line) });
  stores.push(store);
  return store;
}

/** Polls `probe` until it returns a value, for at most `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no result within ${ms} ms`);
    await sleep(100);
  }
}

describe('the embedded store on PostgreSQL', () => {
  it('creates the cluster once: a second start on the same directory has the data, no initdb', async () => {
    const dataDir = join(scratch, 'data');
    const first: string[] = [];
    const store = await start(dataDir, first);
    expect(store).toMatchObject({ kind: 'ferretdb', backend: 'postgresql' });
    expect(store.postgresPid).toBeGreaterThan(0);
    // FerretDB runs with the launcher's garbage-collector settings (decisions.md §58).
    const environ = (await readFile(`/proc/${store.pid}/environ`, 'utf8')).split('\0');
    expect(environ).toEqual(expect.arrayContaining(['GOGC=400', 'GOMEMLIMIT=1GiB']));
    const client = await new MongoClient(store.uri).connect();
    await client.db('twice').collection('c').insertOne({ written: 'first start' });
    await client.close();
    await store.stop();
    expect(isRunning(store.postgresPid!)).toBe(false);
    expect(first.join('\n')).toMatch(/created a PostgreSQL \d+ cluster/);

    const second: string[] = [];
    const again = await start(dataDir, second);
    const reader = await new MongoClient(again.uri).connect();
    await expect(reader.db('twice').collection('c').findOne({})).resolves.toMatchObject({
      written: 'first start',
    });
    await reader.close();
    expect(second.join('\n')).not.toMatch(/created a PostgreSQL/);
    expect(second.join('\n')).not.toMatch(/WARNING/);
  });

  it("serves the schemas' equality filters from GIN indexes (EXPLAIN of FerretDB's own SQL)", async () => {
    const dataDir = join(scratch, 'data');
    const store = await start(dataDir);
    // The application's schema, indexes created the way the app creates them (Model.init).
    const connection = await mongoose
      .createConnection(`${store.uri}`, { dbName: 'plans' })
      .asPromise();
    const pg = new Client(await postgresConnection(dataDir));
    await pg.connect();
    try {
      const Commands = connection.model('WinCommand', WinCommandSchema);
      await Commands.init();
      const device = new ObjectId();
      await Commands.insertMany(
        Array.from({ length: 300 }, (_, i) => ({
          cmdId: `c-${i}`,
          batchId: new ObjectId(),
          organizationId: new ObjectId(),
          winDeviceId: i % 50 === 0 ? device : new ObjectId(),
          queuedAt: new Date(),
          position: i,
          config: {},
          status: i % 100 === 0 ? 'Pending' : 'Acknowledged',
        })),
      );
      await expect(
        Commands.find({ winDeviceId: device, status: 'Pending' }).lean().exec(),
      ).resolves.toHaveLength(3);

      // The statement FerretDB ran for that find, as PostgreSQL saw it.
      const { rows } = await pg.query<{ query: string }>(
        `SELECT query FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND query LIKE 'SELECT%_jsonb->$1 @> $2 AND _jsonb->$3 @> $4%'`,
      );
      expect(rows).toHaveLength(1);
      const sql = rows[0].query;
      expect(sql).toMatch(/FROM "plans"\."win_commands_[0-9a-f]+"/);

      await pg.query(`ANALYZE ${/FROM ("plans"\."win_commands_[0-9a-f]+")/.exec(sql)![1]}`);
      await pg.query(`PREPARE hot(text, jsonb, text, jsonb) AS ${sql}`);
      const explain = async (): Promise<string> =>
        (
          await pg.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN EXECUTE hot('winDeviceId', '"${device.toHexString()}"', 'status', '"Pending"')`,
          )
        ).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
      expect(await explain()).toMatch(
        /Bitmap Index Scan on win_commands_[0-9a-f]+_windeviceid_\w+_gin/,
      );

      // Without the twins the same statement scans the table: the test can tell them apart.
      const twins = await pg.query<{ name: string }>(
        `SELECT indexrelid::regclass::text AS name FROM pg_index
         WHERE indrelid = '${/FROM ("plans"\."win_commands_[0-9a-f]+")/.exec(sql)![1]}'::regclass
           AND indexrelid::regclass::text LIKE '%\\_gin'`,
      );
      // One twin per index the schema declares, and one for FerretDB's own _id index.
      expect(twins.rows).toHaveLength(WinCommandSchema.indexes().length + 1);

      // `{_id: x}` goes down as `_jsonb->'_id' @> x` too, which the _id B-tree cannot serve.
      const table = /FROM ("plans"\."win_commands_[0-9a-f]+")/.exec(sql)![1];
      const byId = async (): Promise<string> =>
        (
          await pg.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN SELECT _jsonb FROM ${table} WHERE _jsonb->'_id' @> '"${device.toHexString()}"'`,
          )
        ).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
      expect(await byId()).toMatch(/Bitmap Index Scan on win_commands_[0-9a-f]+__id_\w+_gin/);

      for (const { name } of twins.rows) await pg.query(`DROP INDEX ${name}`);
      expect(await explain()).toMatch(/Seq Scan on win_commands_/);
      expect(await byId()).toMatch(/Seq Scan on win_commands_/);
    } finally {
      await pg.end();
      await connection.close();
    }
  });

  it('installs the twin trigger once per cluster, and again unchanged at each start', async () => {
    const dataDir = join(scratch, 'data');
    await (await start(dataDir)).stop();
    await start(dataDir);
    const pg = new Client(await postgresConnection(dataDir));
    await pg.connect();
    const { rows } = await pg.query('SELECT evtname FROM pg_event_trigger');
    await pg.end();
    expect(rows).toEqual([{ evtname: TWIN_TRIGGER }]);
  });

  it('restarts FerretDB and PostgreSQL on the same URI when PostgreSQL is killed', async () => {
    const dataDir = join(scratch, 'data');
    const gaveUp: string[] = [];
    const store = await startEmbeddedStore({
      dataDir,
      env,
      log: () => undefined,
      supervise: {
        maxRestarts: 3,
        windowMs: 60_000,
        initialBackoffMs: 0,
        maxBackoffMs: 0,
        onGiveUp: (reason) => gaveUp.push(reason),
      },
    });
    stores.push(store);
    const client = await new MongoClient(store.uri).connect();
    await client.db('restart').collection('c').insertOne({ written: 'before' });
    await client.close();
    const [ferretdb, postgres] = [store.pid, store.postgresPid!];

    process.kill(postgres, 'SIGKILL');
    const restarted = await eventually(
      async () => (store.postgresPid !== postgres && store.pid !== ferretdb ? true : undefined),
      60_000,
    );
    expect(restarted).toBe(true);
    expect(isRunning(ferretdb)).toBe(false);
    const after = await new MongoClient(store.uri).connect();
    await expect(after.db('restart').collection('c').findOne({})).resolves.toMatchObject({
      written: 'before',
    });
    await after.close();
    expect(gaveUp).toEqual([]);
  });
});
