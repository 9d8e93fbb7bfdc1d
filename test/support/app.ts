import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { Connection } from 'mongoose';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp, CreateAppOptions } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { mintToken, MintTokenInput } from '../../src/auth/token';
import { startDeviceListener, DeviceListener } from '../../src/tls/device-listener';
import { dropTestDatabase, testDatabaseUri } from './store';
import { QUERY_SHAPES_DIR_ENV, recordQueryShapes } from './shape-recorder';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_JWT_SECRET = 'mullion-e2e-secret-0123456789abcdef';

export interface TestApp {
  app: INestApplication;
  http: TestAgent;
  /** The real database behind the app, for asserting what was stored. */
  db: Connection;
  uri: string;
  /** The device-facing HTTPS listener (client certificates requested). */
  devices: DeviceListener;
  /** https://127.0.0.1:<port> of the device listener. */
  deviceBaseUrl: string;
  token(input?: Partial<MintTokenInput>): string;
  /** keepDatabase: another app (a restart, a second instance) goes on with the same store. */
  close(opts?: { keepDatabase?: boolean }): Promise<void>;
}

/** The real AppModule over HTTP, on a database of its own in the store global-setup started. */
export async function startTestApp(
  file: string,
  env: Record<string, string> = {},
  /** mongo: extra driver options; uri: the database of an app started before (a restart, a second instance). */
  opts: Pick<CreateAppOptions, 'mongo'> & { uri?: string } = {},
): Promise<TestApp> {
  const uri = opts.uri ?? testDatabaseUri(file);
  const dataDir = mkdtempSync(join(tmpdir(), 'mullion-e2e-'));
  const config = loadConfig({
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_REQUESTS: 'false',
    DATA_DIR: dataDir,
    DEVICE_PORT: '0',
    // Every seeded enterprise creates its device CA: 2048-bit keeps that ~0.1 s instead of ~0.4 s.
    ENROLLMENT_CA_KEY_BITS: '2048',
    // The webhook relay rewrites documents in the background (it empties their outbox): only the
    // tests of webhooks run it (test/support/webhook-receiver.ts webhookEnv).
    WEBHOOK_WORKER: 'false',
    // Profile reconciliation moves assignments and queues commands in the background: only the
    // tests of reconciliation run it, and they drive it (ReconcileService.runOnce).
    PROFILE_RECONCILE_WORKER: 'false',
    ...env,
  });
  // The query-shape test (docs/testing.md) watches every command the server issues.
  const recording = !!process.env[QUERY_SHAPES_DIR_ENV];
  const mongo = recording ? { ...opts.mongo, monitorCommands: true } : opts.mongo;
  const app = await createApp(config, uri, { logger: ['error'], mongo });
  const db = app.get<Connection>(getConnectionToken());
  const shapes = recording ? recordQueryShapes(db.getClient()) : null;
  await app.init();
  const devices = (await startDeviceListener(app, config)) as DeviceListener;
  // Unique indexes are part of the contract: make sure they exist before the first request.
  await Promise.all(Object.values(db.models).map((m) => m.init()));
  const server = app.getHttpServer();
  return {
    app,
    http: request(server),
    db,
    uri,
    devices,
    deviceBaseUrl: `https://127.0.0.1:${devices.port}`,
    token: (input = {}) =>
      mintToken(TEST_JWT_SECRET, {
        subject: 'admin-1',
        organizations: ['*'],
        permissions: ['*'],
        ...input,
      }),
    async close(opts = {}) {
      await devices.close();
      await app.close();
      shapes?.flush();
      rmSync(dataDir, { recursive: true, force: true });
      if (!opts.keepDatabase) await dropTestDatabase(uri).catch(() => undefined);
    },
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
