import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { resolve } from 'node:path';
import { createApp } from './bootstrap';
import { ConfigError, loadConfig } from './config/app-config';
import { resolveMongoUri } from './store';
import { startDeviceListener } from './tls/device-listener';

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
  process.once('beforeExit', stopStore);
  await app.listen(config.port, config.host);
  const devices = await startDeviceListener(app, config);
  logger.log(`mullion listening on http://${config.host}:${config.port} (Swagger UI: /docs)`);
  const shutdown = async (signal: string) => {
    logger.log(`${signal}: shutting down`);
    await devices?.close();
    await app.close();
    await stopStore();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
