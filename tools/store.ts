// npm run store [-- --port 27017] [-- --data-dir ./data] : runs the embedded store in the
// foreground (e.g. to inspect it with mongosh while the server is stopped) until Ctrl-C. The data
// directory is the server's: --data-dir, else $DATA_DIR, else ./data. While the server runs on
// it, this refuses (one store per data directory).
// npm run store -- --prepare : only makes sure a server binary is available (builds FerretDB if
// needed, finds PostgreSQL and repairs the npm package's links if npm skipped its postinstall)
// and exits; CI uses it to build before the timed test step.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DataDirInUseError,
  locateServer,
  startEmbeddedStore,
  StoreUnavailableError,
  withDatabase,
} from '../src/store';
import { locatePostgres } from '../src/store/postgres-binaries';
import { POSTGRES_PASSWORD_FILE } from '../src/store/postgres-server';
import { consoleStoreLog } from '../src/store/store-log';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'data-dir': { type: 'string' },
      prepare: { type: 'boolean', default: false },
    },
  });
  if (values.prepare) {
    const { kind, command } = await locateServer(process.env, consoleStoreLog);
    console.log(`embedded store available: ${kind} at ${command}`);
    if (kind === 'ferretdb') {
      const postgres = await locatePostgres(process.env);
      console.log(
        postgres
          ? `PostgreSQL ${postgres.major} (${postgres.source}) at ${postgres.binDir}`
          : 'no PostgreSQL binaries found: FerretDB would run on SQLite (see STORE_ENGINE)',
      );
    }
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a TCP port number, got "${values.port}"`);
  }
  // The same default as the server's DATA_DIR (src/config/app-config.ts).
  const dataDir = resolve(values['data-dir'] ?? process.env.DATA_DIR ?? 'data');
  const store = await startEmbeddedStore({ dataDir, port });
  console.log(`\nMONGODB_URI=${withDatabase(store.uri, 'mullion')}`);
  if (store.backend === 'postgresql') {
    console.log(
      `(PostgreSQL underneath: user postgres, database ferretdb, password in ` +
        `${resolve(dataDir, POSTGRES_PASSWORD_FILE)}, port in ${resolve(dataDir, 'postgres', 'postmaster.pid')})`,
    );
  }
  console.log('(Ctrl-C to stop)');

  let stopping = false;
  const shutdown = (): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    void store.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  void store.exited.then(({ code, signal }) => {
    if (!stopping) {
      console.error(`the ${store.kind} server exited (code ${code}, signal ${signal})`);
      process.exit(1);
    }
  });
}

main().catch((error: unknown) => {
  const forPeople = error instanceof StoreUnavailableError || error instanceof DataDirInUseError;
  console.error(forPeople ? error.message : error);
  process.exit(1);
});
