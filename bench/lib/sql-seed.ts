/*
 * Fast seeding for the growth bench on the embedded store's PostgreSQL engine. Through FerretDB
 * an insert runs at ~1,700 documents/s, so a million stored commands would take ten minutes to
 * seed. FerretDB 1.24 keeps each collection of database `db` in a table of schema `db` (named in
 * `db._ferretdb_database_metadata`) with one `_jsonb` column: the document's fields as JSON
 * (ObjectIds as hex strings, dates as milliseconds) plus `$s`, its type schema (`p`: each
 * field's type, `$k`: the field order). A batch and its commands written through the driver are
 * the templates; PostgreSQL clones them with generate_series, changing only the ids, the device,
 * the dates and the status, and keeping each field's type. Nothing here runs in the server.
 */
import { Client, escapeIdentifier } from 'pg';
import { postgresConnection } from '../../src/store/postgres-server';

/** FerretDB's PostgreSQL behind a running embedded store, or null (SQLite, MongoDB). */
export async function openSqlStore(dataDir: string | null): Promise<Client | null> {
  if (!dataDir) return null;
  let connection: Awaited<ReturnType<typeof postgresConnection>>;
  try {
    connection = await postgresConnection(dataDir);
  } catch {
    return null; // no postmaster.pid: FerretDB runs on SQLite
  }
  const client = new Client(connection);
  await client.connect();
  return client;
}

/** The PostgreSQL table FerretDB keeps `collection` of database `db` in. */
async function tableOf(client: Client, db: string, collection: string): Promise<string> {
  const schema = escapeIdentifier(db);
  const r = await client.query<{ table: string }>(
    `SELECT _jsonb->>'table' AS table FROM ${schema}._ferretdb_database_metadata
     WHERE _jsonb->>'_id' = $1`,
    [collection],
  );
  if (!r.rows[0]) throw new Error(`seeding: FerretDB has no table for ${db}.${collection}`);
  return `${schema}.${escapeIdentifier(r.rows[0].table)}`;
}

/** The documents of a collection, counted by PostgreSQL. */
export async function countRows(client: Client, db: string, collection: string): Promise<number> {
  const r = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${await tableOf(client, db, collection)}`,
  );
  return Number(r.rows[0].n);
}

/** Statuses of the clones, as the driver path assigns them (seedStatus in syncml.bench.ts). */
export interface SeedStatuses {
  pending: string;
  notFound: string;
  unexpected: string;
  acknowledged: string;
}

export interface CloneSpec {
  /** The database FerretDB serves (a schema in PostgreSQL). */
  db: string;
  /** A finished batch written through the driver, with `perBatch` commands at positions 0…. */
  templateBatchId: string;
  perBatch: number;
  /** Hex ids; batch j of this call goes to deviceIds[(first / perBatch + j) % length]. */
  deviceIds: readonly string[];
  /** Its clones are never Pending (the measured device's queue stays empty). */
  measured: string;
  /** Commands stored before this call, and how many to add. */
  first: number;
  count: number;
  /** Clones are queued over the 180 days before `nowMs`, spread by n / spreadOver. */
  nowMs: number;
  spreadOver: number;
  statuses: SeedStatuses;
  /** Called after each chunk with the clones written so far. */
  progress(done: number): void;
}

const CHUNK = 100_000;
const DAY_MS = 86_400_000;

// Drops the webhook outbox of a template: the relay would otherwise work through every clone.
const STRIP_OUTBOX = (col: string) => `
  jsonb_set(
    ${col} - 'outbox' - 'outboxAt' - 'outboxDue',
    '{$s}',
    ((${col}->'$s') #- '{p,outbox}' #- '{p,outboxAt}' #- '{p,outboxDue}')
      || jsonb_build_object('$k', (${col}->'$s'->'$k') - 'outbox' - 'outboxAt' - 'outboxDue'))`;

/**
 * Writes `count` commands (batches of `perBatch`, each with its batch document) cloned from the
 * template, in chunks; returns the hex id of the last batch written, for a read-back check.
 */
export async function cloneCommands(client: Client, spec: CloneSpec): Promise<string> {
  const commands = await tableOf(client, spec.db, 'win_commands');
  const batches = await tableOf(client, spec.db, 'win_command_batches');
  const hex8 = () =>
    Math.floor(Math.random() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  // ObjectIds: 8 hex of time (so ids sort after the real ones), 8 of this call, 8 of a counter.
  const prefix = Math.floor(spec.nowMs / 1000)
    .toString(16)
    .padStart(8, '0');
  const batchTag = `${prefix}${hex8()}`;
  const commandTag = `${prefix}${hex8()}`;
  const cmdIdTag = hex8();
  const firstBatch = Math.floor(spec.first / spec.perBatch);
  // q: when batch j was queued; it finished a minute later.
  const queuedAt = `($6::bigint - ${180 * DAY_MS} + floor(($7::bigint + j * $2::bigint)::float8
                    / $8::float8 * ${179 * DAY_MS}))::bigint`;
  const batchId = `$3::text || lpad(to_hex(j), 8, '0')`;
  const device = `($4::text[])[1 + (($5::bigint + j) % cardinality($4::text[]))]`;
  // Bulk loading: PostgreSQL maintains the GIN indexes row by row at a fraction of the speed it
  // builds them, so the non-unique indexes are dropped and rebuilt (same definitions; the unique
  // ones on _id and cmdId stay and keep checking the clones).
  await client.query(`SET maintenance_work_mem = '256MB'`);
  const rebuild = [
    ...(await dropNonUniqueIndexes(client, commands)),
    ...(await dropNonUniqueIndexes(client, batches)),
  ];
  let lastBatch = '';
  const batchCount = Math.ceil(spec.count / spec.perBatch);
  try {
    for (let j0 = 0; j0 < batchCount; j0 += CHUNK / spec.perBatch) {
      const j1 = Math.min(batchCount, j0 + CHUNK / spec.perBatch);
      const params = [
        spec.templateBatchId, // $1
        spec.perBatch, // $2
        batchTag, // $3
        spec.deviceIds, // $4
        firstBatch, // $5
        spec.nowMs, // $6
        spec.first, // $7
        spec.spreadOver, // $8
        j0, // $9
        j1 - 1, // $10
      ];
      await client.query(
        `WITH t AS (SELECT ${STRIP_OUTBOX('_jsonb')} AS doc FROM ${batches}
                    WHERE _jsonb->'_id' = to_jsonb($1::text))
         INSERT INTO ${batches} (_jsonb)
         SELECT t.doc || jsonb_build_object(
           '_id', ${batchId},
           'winDeviceId', ${device},
           'name', 'seed ' || ($5::bigint + j),
           'createdAt', x.q,
           'updatedAt', x.q + 60000)
         FROM t, generate_series($9::bigint, $10::bigint) AS j,
           LATERAL (SELECT ${queuedAt} AS q) x`,
        params,
      );
      // Command i of this call: batch j = i / perBatch, a copy of the template at position i % perBatch.
      const last = Math.min(spec.count, j1 * spec.perBatch) - 1;
      await client.query(
        `WITH t AS (SELECT (_jsonb->>'position')::int AS pos, ${STRIP_OUTBOX('_jsonb')} AS doc
                    FROM ${commands} WHERE _jsonb->'batchId' = to_jsonb($1::text)),
         c AS (SELECT i, i / $2::bigint AS j, $7::bigint + i AS n
               FROM generate_series($9::bigint * $2::bigint, $10::bigint) AS i),
         s AS (SELECT c.*, ${device.replace(/\bj\b/g, 'c.j')} AS dev, CASE
                 WHEN c.n % 50 = 7 AND ${device.replace(/\bj\b/g, 'c.j')} <> $11::text THEN $12::text
                 WHEN c.n % 20 = 3 THEN $13::text
                 WHEN c.n % 33 = 5 THEN $14::text
                 ELSE $15::text END AS status,
               (${queuedAt.replace(/\bj\b/g, 'c.j')}) AS q
               FROM c)
         INSERT INTO ${commands} (_jsonb)
         SELECT jsonb_set(
             t.doc || jsonb_build_object(
               '_id', $16::text || lpad(to_hex(s.i), 8, '0'),
               'cmdId', 'seed-' || $17::text || '-' || s.n,
               'batchId', $3::text || lpad(to_hex(s.j), 8, '0'),
               'winDeviceId', s.dev,
               'queuedAt', s.q,
               'createdAt', s.q,
               'updatedAt', s.q + 60000,
               'sentAt', s.q + 60000,
               'receivedAt', s.q + 60000,
               'status', s.status,
               'statusCode', CASE s.status WHEN $12::text THEN NULL WHEN $13::text THEN '404'
                                           WHEN $14::text THEN '500' ELSE '200' END),
             '{$s,p,statusCode,t}',
             to_jsonb(CASE s.status WHEN $12::text THEN 'null' ELSE 'string' END))
         FROM s JOIN t ON t.pos = s.i % $2::bigint`,
        [
          ...params.slice(0, 9),
          last, // $10: the last command index here
          spec.measured, // $11
          spec.statuses.pending, // $12
          spec.statuses.notFound, // $13
          spec.statuses.unexpected, // $14
          spec.statuses.acknowledged, // $15
          commandTag, // $16
          cmdIdTag, // $17
        ],
      );
      lastBatch = `${batchTag}${(j1 - 1).toString(16).padStart(8, '0')}`;
      spec.progress(last + 1);
    }
  } finally {
    for (const def of rebuild) {
      await client.query(def.replace(/^CREATE INDEX /, 'CREATE INDEX IF NOT EXISTS '));
    }
  }
  // The planner's statistics as autovacuum would leave them on a store that grew over time.
  await client.query(`ANALYZE ${commands}`);
  await client.query(`ANALYZE ${batches}`);
  return lastBatch;
}

/** Drops the table's non-unique indexes; returns their definitions. */
async function dropNonUniqueIndexes(client: Client, table: string): Promise<string[]> {
  const r = await client.query<{ name: string; def: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(x.indexrelid) AS def
     FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
     WHERE x.indrelid = $1::regclass AND NOT x.indisunique`,
    [table],
  );
  const schema = table.slice(0, table.indexOf('.'));
  for (const { name } of r.rows) {
    await client.query(`DROP INDEX ${schema}.${escapeIdentifier(name)}`);
  }
  return r.rows.map((row) => row.def);
}
