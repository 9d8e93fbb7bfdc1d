import type { Client } from 'pg';

// FerretDB 1.24 on PostgreSQL keeps each MongoDB database in a schema (with a
// `_ferretdb_database_metadata` table) and each collection in a table `<name>_<hash>` with one
// `_jsonb jsonb` column. It pushes an equality filter down as
//   SELECT _jsonb FROM "db"."win_commands_edbdf9e0" WHERE _jsonb->$1 @> $2 AND _jsonb->$3 @> $4
// but builds a declared index as a B-tree on the same expressions,
//   CREATE INDEX … ON "db"."win_commands_edbdf9e0" (((_jsonb->'winDeviceId')), ((_jsonb->'status')), …)
// which `@>` cannot use: every filter scans the table, `{_id: x}` included (FerretDB's own unique
// B-tree on _jsonb->'_id' does not serve its `@>` either). So each such B-tree gets a GIN
// twin with jsonb_path_ops on the same expressions, which `@>` uses (a multicolumn GIN index
// serves a condition on any subset of its columns). An event trigger creates the twin in the
// statement that creates the B-tree, so the list is the schemas' own (mongoose declares, FerretDB
// creates, the trigger follows), for every database, including ones created later.
//
// `$1` is a parameter: a generic plan cannot match `_jsonb->$1` with an index expression, so the
// server runs with plan_cache_mode=force_custom_plan (postgres-server.ts).

/** Names PostgreSQL gives our objects; the twins end in `_gin`. */
export const TWIN_FUNCTION = 'mullion_gin_twin';
export const TWIN_TRIGGER = 'mullion_gin_twins';

const INSTALL = `
CREATE OR REPLACE FUNCTION ${TWIN_FUNCTION}(btree oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  i pg_index;
  cols text[] := '{}';
  expr text;
  k int;
BEGIN
  SELECT * INTO i FROM pg_index WHERE indexrelid = btree;
  -- Only FerretDB's B-trees on collection tables: not our twins, not its metadata table.
  IF NOT FOUND OR i.indexprs IS NULL
     OR (SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam
         WHERE c.oid = btree) <> 'btree'
     OR (SELECT relname FROM pg_class WHERE oid = i.indrelid) LIKE '\\_ferretdb\\_%' THEN
    RETURN;
  END IF;
  FOR k IN 1 .. i.indnatts LOOP
    expr := pg_get_indexdef(btree, k, false);
    -- The _id index too: FerretDB pushes \`{_id: x}\` down as "_jsonb->'_id' @> $2", which its
    -- own B-tree on _jsonb->'_id' cannot serve either (decisions.md §52).
    IF expr !~ '^\\(+_jsonb ->' THEN
      RETURN;
    END IF;
    cols := cols || (expr || ' jsonb_path_ops');
  END LOOP;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s)',
    left((SELECT relname FROM pg_class WHERE oid = btree), 59) || '_gin',
    i.indrelid::regclass, array_to_string(cols, ', '));
END
$fn$;

CREATE OR REPLACE FUNCTION ${TWIN_FUNCTION}_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE c record;
BEGIN
  FOR c IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE object_type = 'index' LOOP
    PERFORM ${TWIN_FUNCTION}(c.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS ${TWIN_TRIGGER};
CREATE EVENT TRIGGER ${TWIN_TRIGGER} ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION ${TWIN_FUNCTION}_on_ddl();
`;

// B-trees made before the trigger existed (a cluster from an earlier mullion version).
const BACKFILL = `
SELECT ${TWIN_FUNCTION}(x.indexrelid)
FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attname = '_jsonb')`;

/**
 * Installs (or updates) the twin-index trigger in FerretDB's PostgreSQL database and creates
 * the twins it would have made for indexes that already exist. Idempotent; run at each start.
 */
export async function installPushdownIndexes(client: Client): Promise<void> {
  await client.query(INSTALL);
  await client.query(BACKFILL);
}
