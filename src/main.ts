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
  const store = await resolveMongoUri(process.env, { dataDir: resolve(config.dataDir) });
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
