import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { resolve } from 'node:path';
import { createApp } from './bootstrap';
import { InstanceLease, holdInstanceLease } from './common/mongo/instance-lease';
import { ConfigError, loadConfig } from './config/app-config';
import { resolveMongoUri } from './store';
import { DeviceListener, startDeviceListener } from './tls/device-listener';

async function main(): Promise<void> {
  const logger = new Logger('Main');
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`Configuration error: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  const { store: policy } = config;
  const store = await resolveMongoUri(process.env, {
    dataDir: resolve(config.dataDir),
    supervise: {
      maxRestarts: policy.maxRestarts,
      windowMs: policy.restartWindowMs,
      initialBackoffMs: policy.restartBackoffMs,
      maxBackoffMs: policy.restartMaxBackoffMs,
      // Serving without a store only answers 503: exit non-zero so a process manager (systemd,
      // Docker, Kubernetes) restarts the whole server, store included, or alerts someone.
      onGiveUp: (reason) => {
        logger.fatal(`The embedded store cannot be kept running: ${reason}. Exiting.`);
        process.exit(1);
      },
    },
  });
  const app = await createApp(config, store.uri);
  const stopStore = async () => {
    await store.stop();
  };
  // Declared before the lease: its onLost may run shutdown() before the listener has started.
  let devices: DeviceListener | null | undefined = undefined;
  let lease: InstanceLease | null | undefined = undefined;
  let shuttingDown = false;
  async function shutdown(signal: string, code = 0): Promise<void> {
    // A signal and a lost lease may both arrive: close everything once.
    if (shuttingDown) return;
    shuttingDown = true;
    logger.log(`${signal}: shutting down`);
    // Each step runs even when an earlier one failed, so the embedded store is not left behind.
    const steps: [string, () => Promise<unknown> | undefined][] = [
      ['device listener', () => devices?.close()],
      ['instance lease', () => lease?.release()],
      ['app', () => app.close()],
      ['store', stopStore],
    ];
    try {
      for (const [name, stop] of steps) {
        try {
          await stop();
        } catch (e) {
          logger.error(`Could not stop the ${name}`, e instanceof Error ? e.stack : String(e));
        }
      }
    } finally {
      process.exit(code);
    }
  }
  // One instance per FerretDB store (decisions.md §22): a second one stops here, naming the first.
  lease = await holdInstanceLease(app, {
    onLost: (why) => {
      logger.error(`${why}: another instance may be writing to this store; stopping`);
      void shutdown('instance lease lost', 1);
    },
  }).catch(async (e: unknown) => {
    await app.close();
    await stopStore();
    throw e;
  });
  process.once('beforeExit', stopStore);
  await app.listen(config.port, config.host);
  devices = await startDeviceListener(app, config);
  logger.log(`mullion listening on http://${config.host}:${config.port} (Swagger UI: /docs)`);
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
