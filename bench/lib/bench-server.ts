import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { getConnectionToken, MongooseModuleOptions } from '@nestjs/mongoose';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from 'mongoose';
import { mintToken } from '../../src/auth/token';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';
import { createEnterpriseCa, issueDeviceCertificate } from '../../src/pki';
import { resolveMongoUri, withDatabase, type ResolvedMongo } from '../../src/store';
import { DeviceListener, startDeviceListener } from '../../src/tls/device-listener';

export interface BenchServer {
  baseUrl: string;
  /** The HTTPS device listener, when asked for (`deviceListener: true`). */
  devices: DeviceListener | null;
  /** e.g. `ferretdb (embedded, MongoDB 7.0.77 / FerretDB v1.24.2)`. */
  storeDescription: string;
  storeKind: ResolvedMongo['source'];
  /** The connection string the app uses (the bench database for MONGODB_URI). */
  storeUri: string;
  /** The embedded store's DATA_DIR (its PostgreSQL cluster, if any, inside); null on MONGODB_URI. */
  storeDataDir: string | null;
  /** A token for every organization and permission, signed with this run's secret. */
  token: string;
  db: Connection;
  /** The Nest application, for benchmarks that drive a service directly (the profile planner). */
  app: INestApplication;
  close(): Promise<void>;
}

export interface BenchServerOptions {
  /** Extra environment for loadConfig (e.g. COMMANDS_MAX_PER_BATCH). */
  env?: Record<string, string>;
  /** Driver options, e.g. `{ monitorCommands: true }` to count round trips. */
  mongo?: MongooseModuleOptions;
  /** Also start the HTTPS device listener on a free loopback port. */
  deviceListener?: boolean;
  log: (message: string) => void;
}

/**
 * The real app on a free loopback port with request logging off, on MONGODB_URI (in a database
 * of its own, dropped on close) or else on an embedded store in a temporary directory (removed
 * on close). close() is idempotent and always stops what was started.
 */
export async function startBenchServer(opts: BenchServerOptions): Promise<BenchServer> {
  const secret = randomBytes(32).toString('hex');
  const tmp = await mkdtemp(join(tmpdir(), 'mullion-bench-'));
  const config = loadConfig({
    JWT_SECRET: secret,
    LOG_REQUESTS: 'false',
    DATA_DIR: join(tmp, 'app'),
    DEVICE_PORT: '0',
    DEVICE_HOST: '127.0.0.1',
    ENROLLMENT_CA_KEY_BITS: '2048',
    // The benches measure how fast messages are served, all devices at once: none is refused
    // for its wait in the admission queue (decisions.md §50), which keeps its default width.
    SYNCML_MAX_QUEUE_WAIT_SECONDS: '600',
    ...opts.env,
  });
  const external = Boolean(process.env.MONGODB_URI?.trim());
  let store: ResolvedMongo | undefined;
  let app: INestApplication | undefined;
  let devices: DeviceListener | null = null;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (app && external) {
      await app
        .get<Connection>(getConnectionToken())
        .dropDatabase()
        .catch((e: unknown) => opts.log(`could not drop the bench database: ${String(e)}`));
    }
    // Load generators keep their keep-alive connections busy; app.close() would wait for them.
    devices?.server.closeAllConnections();
    await devices?.close().catch(() => undefined);
    (app?.getHttpServer() as Server | undefined)?.closeAllConnections();
    await app?.close().catch(() => undefined);
    await store?.stop();
    await rm(tmp, { recursive: true, force: true });
  };

  try {
    // With MONGODB_URI set, resolveMongoUri starts nothing and ignores dataDir.
    const storeDataDir = join(tmp, 'store');
    store = await resolveMongoUri(process.env, { dataDir: storeDataDir, log: opts.log });
    // Never write into the database MONGODB_URI names: a fresh one, dropped at the end.
    const uri = external
      ? withDatabase(store.uri, `mullion_bench_${randomBytes(4).toString('hex')}`)
      : store.uri;
    app = await createApp(config, uri, { logger: ['error', 'warn'], mongo: opts.mongo });
    await app.init();
    const db = app.get<Connection>(getConnectionToken());
    await Promise.all(Object.values(db.models).map((m) => m.init()));
    await app.listen(0, '127.0.0.1');
    if (opts.deviceListener) devices = await startDeviceListener(app, config);
    const { port } = app.getHttpServer().address() as AddressInfo;
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      devices,
      storeDescription: await describeStore(db, store.source),
      storeKind: store.source,
      storeUri: uri,
      storeDataDir: external ? null : storeDataDir,
      token: mintToken(secret, { subject: 'bench', organizations: ['*'], permissions: ['*'] }),
      db,
      app,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function describeStore(db: Connection, source: ResolvedMongo['source']): Promise<string> {
  const where = source === 'external' ? 'MONGODB_URI' : `${source}, embedded`;
  try {
    const info = (await db.db!.admin().command({ buildInfo: 1 })) as {
      version?: string;
      ferretdbVersion?: string;
    };
    const versions = [`MongoDB ${info.version ?? '?'}`];
    if (info.ferretdbVersion) versions.push(`FerretDB ${info.ferretdbVersion}`);
    return `${where} (${versions.join(' / ')})`;
  } catch {
    return where;
  }
}

/** A fresh organization, its Windows enterprise and one active device, through the API. */
export async function seedBenchDevice(server: BenchServer): Promise<{
  slug: string;
  deviceId: string;
  /** The device's Mongo id (winDeviceId), and its organization's and enterprise's. */
  id: string;
  orgId: string;
  enterpriseId: string;
}> {
  const slug = `bench-${randomBytes(4).toString('hex')}`;
  const deviceId = randomBytes(16).toString('hex').toUpperCase();
  const enterprise = `/v1/organizations/${slug}/mdm/windows/enterprise`;
  const org = await benchApi(server, 'POST', '/v1/organizations', { name: `Bench ${slug}`, slug });
  const ent = await benchApi(server, 'POST', enterprise, {});
  const device = await benchApi(server, 'POST', `${enterprise}/devices`, {
    deviceId,
    name: 'Bench PC',
  });
  return {
    slug,
    deviceId,
    id: String(device.id),
    orgId: String(org.id),
    enterpriseId: String(ent.id),
  };
}

export interface CertifiedBenchDevice {
  /** The Windows device id (certificate CN). */
  deviceId: string;
  /** The device's Mongo id. */
  id: string;
  cert: string;
  key: string;
}

/**
 * A fresh organization and enterprise with `n` devices registered with a client certificate each
 * (one throw-away CA, one shared RSA key: the benches measure sessions, not key generation).
 * `label` names them: organization `<label> <slug>`, devices `<label> PC <i>`.
 */
export async function seedCertifiedDevices(
  server: BenchServer,
  n: number,
  label = 'Bench',
): Promise<{ slug: string; devices: CertifiedBenchDevice[] }> {
  const slug = `${label.toLowerCase()}-${randomBytes(4).toString('hex')}`;
  const enterprise = `/v1/organizations/${slug}/mdm/windows/enterprise`;
  await benchApi(server, 'POST', '/v1/organizations', { name: `${label} ${slug}`, slug });
  await benchApi(server, 'POST', enterprise, {});
  const ca = await createEnterpriseCa({ commonName: 'bench CA', now: new Date(), keyBits: 2048 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const devices: CertifiedBenchDevice[] = [];
  for (let i = 0; i < n; i++) {
    const deviceId = randomBytes(16).toString('hex').toUpperCase();
    const cert = await issueDeviceCertificate({
      ca: { certificatePem: ca.certificatePem, privateKeyPkcs8Pem: ca.privateKeyPkcs8Pem },
      csrPublicKey: publicKey,
      deviceId,
      now: new Date(),
    });
    const d = await benchApi(server, 'POST', `${enterprise}/devices`, {
      deviceId,
      name: `${label} PC ${i + 1}`,
      certificate: cert.certificatePem,
    });
    devices.push({ deviceId, id: String(d.id), cert: cert.certificatePem, key });
  }
  return { slug, devices };
}

/** One REST call as the bench's administrator; the answer's `data`, or a thrown error. */
export async function benchApi(server: BenchServer, method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data?: Record<string, unknown> };
  if (res.status !== 200)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.data as Record<string, unknown>;
}
