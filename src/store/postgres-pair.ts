import { freeLoopbackPort } from './free-port';
import type { EmbeddedStore } from './embedded-store';
import type { PostgresBinaries } from './postgres-binaries';
import { startPostgres, type RunningPostgres } from './postgres-server';
import type { PostgresAccount } from './postgres-user';
import type { StoreLog } from './store-log';

/** PostgreSQL on a free loopback port, another one if the picked port is taken meanwhile. */
export async function startPostgresOnFreePort(
  pg: { bin: PostgresBinaries; account: PostgresAccount | undefined },
  dataDir: string,
  o: { env: NodeJS.ProcessEnv; timeoutMs: number; attempts: number; log: StoreLog },
): Promise<RunningPostgres> {
  const { log } = o;
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const started = Date.now();
    try {
      const running = await startPostgres({
        ...pg,
        dataDir,
        port,
        env: o.env,
        timeoutMs: o.timeoutMs,
        log,
      });
      log(
        `PostgreSQL ${pg.bin.major} (${pg.bin.source}, pid ${running.server.pid}) ready on ` +
          `127.0.0.1:${port} in ${Date.now() - started} ms`,
      );
      return running;
    } catch (error) {
      const output = (error as { output?: string }).output ?? '';
      if (/address already in use/i.test(output) && attempt < o.attempts) {
        log(`port ${port} was taken before PostgreSQL could bind it; trying another`);
        continue;
      }
      throw new Error(
        `PostgreSQL (${pg.bin.binDir}) did not start: ${(error as Error).message}` +
          (output ? `\n--- its output ---\n${output.trim()}` : ''),
      );
    }
  }
}

/**
 * FerretDB and its PostgreSQL as one server: it has exited when either has (the other is then
 * stopped, so a restart starts both afresh), and stop() stops FerretDB, then PostgreSQL.
 */
export function pairedWithPostgres(
  ferretdb: EmbeddedStore,
  postgres: RunningPostgres,
  log: StoreLog,
): EmbeddedStore {
  let stopping = false;
  void postgres.server.exited.then(({ code, signal }) => {
    if (!stopping) {
      log(
        `PostgreSQL (pid ${postgres.server.pid}) exited unexpectedly (code ${code}, signal ${signal}):`,
      );
      log(postgres.server.output().trim().split('\n').slice(-20).join('\n'));
    }
  });
  const stop = async (): Promise<void> => {
    stopping = true;
    await ferretdb.stop();
    await postgres.server.stop(30_000);
  };
  const exited = Promise.race([ferretdb.exited, postgres.server.exited]).then(async (info) => {
    await stop();
    return info;
  });
  return { ...ferretdb, postgresPid: postgres.server.pid, exited, stop };
}
