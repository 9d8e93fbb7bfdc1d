import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { Provider } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { getConnectionToken, MongooseModule } from '@nestjs/mongoose';
import { Test, TestingModule } from '@nestjs/testing';
import { Connection, Types } from 'mongoose';
import type { AuthUser } from '../../src/auth/auth-user';
import { CommandsModule } from '../../src/commands/commands.module';
import { CommandsService } from '../../src/commands/commands.service';
import type { DeviceRef } from '../../src/commands/command-delivery.service';
import type { CommandConfig } from '../../src/commands/commands.types';
import { ReadPoolModule } from '../../src/common/mongo/read-pool';
import { loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { DevicesModule } from '../../src/devices/devices.module';
import { EventsModule } from '../../src/events/events.module';
import type { ClientIdentity } from '../../src/tls/client-identity';
import { SyncmlModule } from '../../src/syncml/syncml.module';
import { SyncmlSessionService } from '../../src/syncml/syncml-session.service';
import { makeDeviceCredentials } from './device-certs';
import { uniqueDeviceId, uniqueSlug } from './seed';
import { dropTestDatabase, testDatabaseUri } from './store';

/**
 * Medium tests: the services of the device-facing path against the real store, without HTTP —
 * where races and crashes between two writes can be scripted. One database per file.
 */
export interface Medium {
  module: TestingModule;
  db: Connection;
  sessions: SyncmlSessionService;
  commands: CommandsService;
  close(): Promise<void>;
}

export const ADMIN: AuthUser = { subject: 'admin-1', organizations: ['*'], permissions: ['*'] };

export async function startMedium(
  file: string,
  providers: Provider[] = [],
  env: Record<string, string> = {},
  /** e.g. `{ monitorCommands: true }`, to count the driver's commands (round trips). */
  mongo: { monitorCommands?: boolean } = {},
): Promise<Medium> {
  const uri = testDatabaseUri(file);
  const config = loadConfig({
    JWT_SECRET: 'mullion-medium-secret-0123456789abcdef',
    LOG_REQUESTS: 'false',
    DATA_DIR: '/tmp/mullion-medium-unused',
    ENROLLMENT_CA_KEY_BITS: '2048',
    ...env,
  });
  let builder = Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      MongooseModule.forRoot(uri, { serverSelectionTimeoutMS: 5000, autoIndex: true, ...mongo }),
      ReadPoolModule.forRoot(uri, { serverSelectionTimeoutMS: 5000, ...mongo }),
      EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }),
      EventsModule,
      DevicesModule,
      CommandsModule,
      SyncmlModule,
    ],
  });
  for (const p of providers) {
    if (typeof p === 'object' && 'provide' in p && 'useValue' in p) {
      builder = builder.overrideProvider(p.provide).useValue(p.useValue);
    }
  }
  const module = await builder.compile();
  module.useLogger(['error']);
  await module.init();
  const db = module.get<Connection>(getConnectionToken());
  await Promise.all(Object.values(db.models).map((m) => m.init()));
  return {
    module,
    db,
    sessions: module.get(SyncmlSessionService),
    commands: module.get(CommandsService),
    async close() {
      await module.close();
      await dropTestDatabase(uri).catch(() => undefined);
    },
  };
}

export interface Tenant {
  orgId: string;
  enterpriseId: string;
}

/** An organization with its Windows enterprise, written directly. */
export async function tenant(m: Medium): Promise<Tenant> {
  const orgId = new Types.ObjectId();
  const slug = uniqueSlug();
  await m.db
    .collection('organizations')
    .insertOne({ _id: orgId, name: `Org ${slug}`, slug, status: 'active' });
  const enterpriseId = new Types.ObjectId();
  await m.db
    .collection('win_enterprises')
    .insertOne({ _id: enterpriseId, organizationId: orgId, name: 'Enterprise', status: 'active' });
  return { orgId: orgId.toHexString(), enterpriseId: enterpriseId.toHexString() };
}

export interface MediumDevice extends Tenant {
  winDeviceId: string;
  deviceId: string;
  identity: ClientIdentity;
}

/** An active device with an administrator-registered certificate, written directly. */
export async function device(m: Medium, t: Tenant): Promise<MediumDevice> {
  const deviceId = uniqueDeviceId();
  const creds = await makeDeviceCredentials(deviceId);
  const certificate = new X509Certificate(creds.certPem);
  const id = new Types.ObjectId();
  const now = new Date();
  await m.db.collection('win_devices').insertOne({
    _id: id,
    organizationId: new Types.ObjectId(t.orgId),
    winEnterpriseId: new Types.ObjectId(t.enterpriseId),
    deviceId,
    status: 'active',
    certificate: { thumbprint: creds.thumbprint, source: 'admin' },
    certificateThumbprint: creds.thumbprint,
    lockedUntil: null,
    lockToken: null,
    queueSeq: 0,
    createdAt: now,
    updatedAt: now,
  });
  return {
    ...t,
    winDeviceId: id.toHexString(),
    deviceId,
    identity: { thumbprint: creds.thumbprint, certificate, via: 'tls' },
  };
}

/** Queues commands through the service, as POST …/commands does. */
export async function queue(m: Medium, d: MediumDevice, configs: CommandConfig[]) {
  return m.commands.enqueue(ADMIN, d.orgId, d.winDeviceId, {
    commands: configs.map((config) => ({ config })),
  });
}

/**
 * A device of a new tenant with `configs` queued as one batch (through the service): the batch,
 * and its commands' cmdIds in batch order.
 */
export async function deviceWithQueue(m: Medium, configs: CommandConfig[]) {
  const d = await device(m, await tenant(m));
  const batch = await queue(m, d, configs);
  return { d, batch, cmdIds: batch.commands.map((c) => c.cmdId) };
}

/** Cancels commands of a batch, as POST …/commands/:id/cancel does. */
export async function cancelCommands(
  m: Medium,
  d: MediumDevice,
  batchId: string,
  cmdIds: string[],
): Promise<void> {
  await m.commands.cancel(ADMIN, d.orgId, d.winDeviceId, batchId, cmdIds);
}

export async function commandDocs(m: Medium, d: MediumDevice) {
  return m.db
    .collection('win_commands')
    .find({ winDeviceId: new Types.ObjectId(d.winDeviceId) })
    .sort({ queuedAt: 1, position: 1 })
    .toArray();
}

export async function deviceDoc(m: Medium, d: MediumDevice) {
  return m.db.collection('win_devices').findOne({ _id: new Types.ObjectId(d.winDeviceId) });
}

/** A Get of `path`, as the commands API would store it. */
export const getConfig = (path: string): CommandConfig => ({ path, action: 'Get', format: 'chr' });

/** A Replace of `path` with the int 1. */
export const replaceConfig = (path: string): CommandConfig => ({
  path,
  action: 'Replace',
  format: 'int',
  value: '1',
});

/** The reference the delivery service takes for a medium device. */
export const deviceRef = (d: MediumDevice): DeviceRef => ({
  id: d.winDeviceId,
  organizationId: d.orgId,
});
