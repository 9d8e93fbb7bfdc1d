import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Types } from 'mongoose';
import {
  AlertCode,
  buildSyncml,
  parseSyncml,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlMessage,
  type SyncmlStatusCommand,
} from '../../src/syncml/codec';
import {
  SimulatedDevice,
  type Exchange,
  type ExtraAlert,
  type SimulatedDeviceOptions,
} from '../../tools/simulator';
import { deviceHeader, package1Commands, syncHdrStatus } from '../../tools/simulator/messages';
import { bearer, TestApp } from './app';
import { DeviceCredentials, makeDeviceCredentials } from './device-certs';
import { commandsUrl, seedDevice, Seeded, uniqueDeviceId } from './seed';

export const SYNCML_TYPE = 'application/vnd.syncml.dm+xml';
export const MGMT_URL = 'https://mdm.example.test/ManagementServer/MDM.svc';
export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A device with a registered client certificate. */
export interface Managed extends Seeded {
  creds: DeviceCredentials;
}

/**
 * A device whose certificate is registered through the API: in a fresh organization, or (with
 * `of`) as another device of `of`'s organization.
 */
export async function managedDevice(t: TestApp, of?: Seeded): Promise<Managed> {
  if (!of) {
    const s = await seedDevice(t);
    const creds = await makeDeviceCredentials(s.deviceId);
    const r = await t.http
      .patch(`/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${s.deviceId}`)
      .set(bearer(s.token))
      .send({ certificate: creds.certPem });
    if (r.status !== 200) throw new Error(`register cert: ${r.status} ${JSON.stringify(r.body)}`);
    return { ...s, creds };
  }
  const deviceId = uniqueDeviceId();
  const creds = await makeDeviceCredentials(deviceId);
  const r = await t.http
    .post(`/v1/organizations/${of.slug}/mdm/windows/enterprise/devices`)
    .set(bearer(of.token))
    .send({ deviceId, certificate: creds.certPem });
  if (r.status !== 200) throw new Error(`add device: ${r.status} ${JSON.stringify(r.body)}`);
  return { ...of, deviceId, winDeviceId: r.body.data.id, creds };
}

export function simulate(
  t: TestApp,
  d: Managed,
  opts: Partial<SimulatedDeviceOptions> = {},
): SimulatedDevice {
  return new SimulatedDevice({
    deviceId: d.deviceId,
    cert: d.creds.certPem,
    key: d.creds.keyPem,
    serverUrl: t.deviceBaseUrl,
    insecure: true,
    ...opts,
  });
}

export interface CommandInput {
  path: string;
  action: string;
  format: string;
  value?: string;
}

export interface CommandView {
  cmdId: string;
  status: string;
  config: CommandInput;
  data: { path: string; format?: string; type?: string; value?: string }[];
  /** The SyncML status code, a number in the API (stored as the device's text). */
  statusCode: number | null;
  sentAt: string | null;
  receivedAt: string | null;
  canceledAt: string | null;
}

export interface BatchView {
  id: string;
  commands: CommandView[];
}

export async function queue(t: TestApp, d: Seeded, configs: CommandInput[]): Promise<BatchView> {
  const r = await t.http
    .post(commandsUrl(d))
    .set(bearer(d.token))
    .send({ commands: configs.map((config) => ({ config })) });
  if (r.status !== 200) throw new Error(`queue: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data as BatchView;
}

export async function readBatch(t: TestApp, d: Seeded, batchId: string): Promise<BatchView> {
  const r = await t.http.get(`${commandsUrl(d)}${batchId}`).set(bearer(d.token));
  if (r.status !== 200) throw new Error(`read batch: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data as BatchView;
}

export async function readDevice(t: TestApp, d: Seeded): Promise<Record<string, unknown>> {
  const r = await t.http
    .get(`/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}`)
    .set(bearer(d.token));
  if (r.status !== 200) throw new Error(`read device: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data as Record<string, unknown>;
}

export const getCmd = (path: string): CommandInput => ({ path, action: 'Get', format: 'chr' });

export interface RawAnswer {
  status: number;
  contentType: string | undefined;
  retryAfter?: string;
  body: string;
  ms: number;
}

/** A RawAnswer with every header of the answer. */
export interface DeviceAnswer extends RawAnswer {
  headers: IncomingHttpHeaders;
}

/** One HTTPS POST to the management endpoint with (or without) a client certificate. */
export function rawPost(
  t: TestApp,
  creds: DeviceCredentials | null,
  body: string | Buffer,
  contentType = SYNCML_TYPE,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return devicePost(
    t,
    '/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA',
    creds,
    body,
    contentType,
    headers,
  );
}

/**
 * One HTTPS request (a POST unless `method` says otherwise) to a path of the device listener,
 * with (or without) a client certificate.
 */
export function devicePost(
  t: TestApp,
  path: string,
  creds: DeviceCredentials | null,
  body: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<DeviceAnswer> {
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpsRequest(
      `${t.deviceBaseUrl}${path}`,
      {
        method,
        rejectUnauthorized: false,
        agent: false,
        ...(creds && { cert: creds.certPem, key: creds.keyPem }),
        headers: { ...headers, 'Content-Type': contentType, 'Content-Length': payload.length },
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            retryAfter: res.headers['retry-after'],
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
      },
    );
    // A server that refuses early (413) may close while the body is still being written.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.end(payload);
  });
}

/** A device message as Windows writes it (no XML declaration). */
export function deviceMessage(o: {
  deviceId: string;
  sessionId: string;
  msgId: number;
  commands: SyncmlCommand[];
  final?: boolean;
  maxMsgSize?: number;
}): string {
  return buildSyncml(
    {
      header: deviceHeader({
        sessionId: o.sessionId,
        msgId: o.msgId,
        serverUrl: MGMT_URL,
        source: o.deviceId,
        ...(o.maxMsgSize !== undefined && { maxMsgSize: o.maxMsgSize }),
      }),
      commands: o.commands,
      final: o.final ?? true,
    },
    { headless: true },
  );
}

/** Package 1's commands (1201, LoginStatus 1224, DevInfo Replace), optionally with extra alerts. */
export function openingCommands(
  deviceId: string,
  extraAlerts: readonly ExtraAlert[] = [],
): SyncmlCommand[] {
  return package1Commands({
    deviceId,
    devInfo: { man: 'Contoso', mod: 'Raw PC', dmV: '1.3', lang: 'en-US' },
    sessionAlert: AlertCode.ClientInitiatedMgmt,
    loginStatus: 'user',
    extraAlerts,
  });
}

export const hdrStatus = (cmdId: string, serverMsgId: string): SyncmlStatusCommand =>
  syncHdrStatus(cmdId, serverMsgId);

export function statusCmd(
  cmdId: string,
  msgRef: string,
  cmdRef: string,
  cmd: string,
  code: string = SyncmlStatus.Ok,
): SyncmlStatusCommand {
  return {
    kind: 'Status',
    cmdId,
    msgRef,
    cmdRef,
    cmd,
    targetRef: [],
    sourceRef: [],
    data: code,
    items: [],
  };
}

export function resultsCmd(
  cmdId: string,
  msgRef: string,
  cmdRef: string,
  path: string,
  value: string,
): SyncmlCommand {
  return {
    kind: 'Results',
    cmdId,
    msgRef,
    cmdRef,
    cmd: 'Get',
    targetRef: [],
    sourceRef: [],
    items: [{ source: path, meta: { format: 'chr', type: 'text/plain' }, data: value }],
  };
}

/** Parses a 200 answer; throws with the body otherwise. */
export function answerOf(a: RawAnswer): SyncmlMessage {
  if (a.status !== 200) throw new Error(`HTTP ${a.status}: ${a.body.slice(0, 300)}`);
  return parseSyncml(a.body);
}

/** The server message of one simulator exchange. */
export const responseOf = (x: Exchange): SyncmlMessage =>
  answerOf({ status: x.status, contentType: x.contentType, body: x.responseBody, ms: 0 });

/** The management commands (anything but Status/Results) of a server message. */
export const managementCommands = (m: SyncmlMessage): SyncmlCommand[] =>
  m.commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Results');

export interface StoredState {
  device: Record<string, unknown>;
  commands: Record<string, unknown>[];
  events: Record<string, unknown>[];
  batches: number;
}

/** What the database holds for a device: its document, its commands and its events. */
export async function storedState(t: TestApp, winDeviceId: string): Promise<StoredState> {
  const _id = new Types.ObjectId(winDeviceId);
  const [device, commands, events, batches] = await Promise.all([
    t.db.collection('win_devices').findOne({ _id }),
    t.db.collection('win_commands').find({ winDeviceId: _id }).sort({ cmdId: 1 }).toArray(),
    t.db.collection('device_events').find({ winDeviceId: _id }).sort({ _id: 1 }).toArray(),
    t.db.collection('win_command_batches').countDocuments({ winDeviceId: _id }),
  ]);
  if (!device) throw new Error(`no device ${winDeviceId}`);
  return {
    device: withoutOutbox(device),
    commands: commands.map(withoutOutbox),
    events: events.map(({ published: _published, ...e }) => e),
    batches,
  };
}

/**
 * The webhook relay empties outboxes and publishes alerts whenever it runs: bookkeeping of the
 * events, not state a device message changes.
 */
function withoutOutbox<T extends Record<string, unknown>>(doc: T): T {
  const { outbox: _outbox, outboxAt: _outboxAt, ...rest } = doc;
  return rest as T;
}

/**
 * The same state without the per-request lock bookkeeping (lockedUntil, lockToken and the
 * updatedAt that taking and releasing the lock touches): what a refused message must not change.
 */
export function withoutLock(s: StoredState): StoredState {
  const { lockedUntil: _l, lockToken: _t, updatedAt: _u, ...device } = s.device;
  return { ...s, device };
}

export async function commandDoc(t: TestApp, cmdId: string): Promise<Record<string, unknown>> {
  const doc = await t.db.collection('win_commands').findOne({ cmdId });
  if (!doc) throw new Error(`no command ${cmdId}`);
  return doc;
}
