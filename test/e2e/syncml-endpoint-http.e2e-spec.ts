import { gzipSync } from 'node:zlib';
import { startTestApp, TestApp } from '../support/app';
import type { DeviceCredentials } from '../support/device-certs';
import {
  devicePost,
  deviceMessage,
  managedDevice,
  Managed,
  openingCommands,
  DeviceAnswer,
  SYNCML_TYPE,
} from '../support/syncml-device';

/**
 * The HTTP surface of the management endpoint, header by header: it is served outside the
 * Express pipeline (decisions.md §44), and these are the answers it gave inside it. `post`
 * sends `body` as a device would (SyncML unless the headers say otherwise).
 */
function post(
  t: TestApp,
  opts: {
    path?: string;
    method?: string;
    creds: DeviceCredentials | null;
    body: Buffer;
    headers?: Record<string, string>;
  },
): Promise<DeviceAnswer> {
  const headers = opts.headers ?? {};
  return devicePost(
    t,
    opts.path ?? '/ManagementServer/MDM.svc?mode=Maintenance',
    opts.creds,
    opts.body,
    headers['Content-Type'] ?? SYNCML_TYPE,
    headers,
    opts.method,
  );
}

const PLAIN = 'text/plain; charset=utf-8';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('the management endpoint over HTTP', () => {
  let t: TestApp;
  let d: Managed;
  let opening: Buffer;
  beforeAll(async () => {
    t = await startTestApp(__filename, { SYNCML_BODY_LIMIT_BYTES: '65536' });
    d = await managedDevice(t);
    opening = Buffer.from(
      deviceMessage({
        deviceId: d.deviceId,
        sessionId: '1',
        msgId: 1,
        commands: openingCommands(d.deviceId),
      }),
    );
  });
  afterAll(() => t.close());

  it('answers a check-in with SyncML, its exact length and the caller’s request id', async () => {
    const r = await post(t, { creds: d.creds, body: opening, headers: { 'X-Request-Id': 'rq-1' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/vnd.syncml.dm+xml; charset=utf-8');
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
    expect(r.headers['x-request-id']).toBe('rq-1');
    expect(r.headers['transfer-encoding']).toBeUndefined();
    expect(r.body).toMatch(
      /^<\?xml version="1\.0" encoding="UTF-8"\?><SyncML xmlns="SYNCML:SYNCML1\.2">.*<Final\/><\/SyncBody><\/SyncML>$/s,
    );
  });

  it('routes as Express did: any case, a trailing slash, a query string; a gzip body', async () => {
    for (const path of ['/managementserver/mdm.svc', '/ManagementServer/MDM.svc/?Platform=WoA']) {
      const r = await post(t, { path, creds: d.creds, body: opening });
      expect([path, r.status, r.headers['x-request-id']]).toEqual([
        path,
        200,
        expect.stringMatching(UUID),
      ]);
    }
    const gz = await post(t, {
      creds: d.creds,
      body: gzipSync(opening),
      headers: { 'Content-Encoding': 'gzip' },
    });
    expect(gz.status).toBe(200);
    expect(gz.body).toContain('<Final/>');
  });

  it.each([
    ['no client certificate', null, SYNCML_TYPE, 401, 'A client certificate is required'],
    ['another content type', 'creds', 'text/xml', 415, `Content-Type must be ${SYNCML_TYPE}`],
    ['not SyncML', 'creds', SYNCML_TYPE, 400, 'Invalid SyncML: '],
  ] as const)('%s: plain text, with a request id', async (_n, c, type, status, text) => {
    const body = status === 400 ? Buffer.from('<foo/>') : opening;
    const r = await post(t, {
      creds: c ? d.creds : null,
      body,
      headers: { 'Content-Type': type },
    });
    expect([r.status, r.headers['content-type'], r.body.slice(0, text.length)]).toEqual([
      status,
      PLAIN,
      text,
    ]);
    expect(r.headers['x-request-id']).toMatch(UUID);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
  });

  it.each([
    [
      'a body over the limit',
      { 'Content-Type': SYNCML_TYPE },
      70_000,
      413,
      'Request body too large',
    ],
    [
      'an unsupported Content-Encoding',
      { 'Content-Encoding': 'compress' },
      100,
      415,
      'Content-Encoding must be gzip, deflate, br or identity (got compress)',
    ],
    ['a corrupt gzip body', { 'Content-Encoding': 'gzip' }, 100, 400, 'Malformed request body'],
  ])('%s: plain text, before any request id', async (_n, headers, size, status, text) => {
    const r = await post(t, { creds: d.creds, body: Buffer.alloc(size, 0x41), headers });
    expect([r.status, r.headers['content-type'], r.body]).toEqual([status, PLAIN, text]);
    expect(r.headers['x-request-id']).toBeUndefined();
  });

  it('any other method on the path is the API’s JSON 404', async () => {
    const r = await post(t, { method: 'PUT', creds: d.creds, body: opening });
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.body)).toEqual({
      status: false,
      error: { code: 3001, message: 'Route not found' },
    });
  });
});
