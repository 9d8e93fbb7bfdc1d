import { randomBytes } from 'node:crypto';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Types } from 'mongoose';
import { readFault } from '../../tools/simulator/enroll-messages';
import { bearer, startTestApp, TestApp } from '../support/app';
import { devicePost } from '../support/syncml-device';
import { commandsUrl, seedDevice, Seeded, uniqueDeviceId } from '../support/seed';
import { expectInvalid, MESSAGES } from './expect-error';

type Encoding = 'gzip' | 'br' | 'deflate';
const ENCODINGS: Encoding[] = ['gzip', 'br', 'deflate'];
const compress = (enc: Encoding, b: Buffer): Buffer =>
  enc === 'gzip' ? gzipSync(b) : enc === 'br' ? brotliCompressSync(b) : deflateSync(b);

/** Garbage a decoder must refuse: not a stream of that encoding at all. */
const NOT_COMPRESSED = Buffer.from(
  'this is certainly not a compressed stream \x00\xff\xfe',
  'latin1',
);

/** The corrupt bodies each encoding is tried with: garbage, a valid stream cut short, flipped bytes. */
function corruptBodies(enc: Encoding, valid: Buffer): [string, Buffer][] {
  const whole = compress(enc, valid);
  const cases: [string, Buffer][] = [
    ['random bytes', Buffer.concat([NOT_COMPRESSED, randomBytes(64)])],
    ['a valid stream cut in half', whole.subarray(0, Math.floor(whole.length / 2))],
  ];
  // gzip and deflate carry a checksum (CRC-32, Adler-32); brotli has none, so a flipped byte
  // may decode to other bytes without any error.
  if (enc !== 'br') {
    const flipped = Buffer.from(whole);
    for (let i = Math.floor(flipped.length / 3); i < flipped.length; i += 7) flipped[i] ^= 0xa5;
    cases.push(['a valid stream with flipped bytes', flipped]);
  }
  return cases;
}

/** superagent JSON-encodes a Buffer sent as application/json; these bytes must go out as they are. */
const asIs = (body: unknown) => body as string;

/** What the app writes to stderr/console.error while `run` runs: no error-level line allowed. */
async function errorOutput<T>(run: () => Promise<T>): Promise<[T, string]> {
  const seen: string[] = [];
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    seen.push(String(chunk));
    return true;
  });
  const consoleError = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    seen.push(args.map(String).join(' '));
  });
  try {
    return [await run(), seen.join('')];
  } finally {
    stderr.mockRestore();
    consoleError.mockRestore();
  }
}

const SYNCML = '/ManagementServer/MDM.svc';
const SYNCML_TYPE = 'application/vnd.syncml.dm+xml';
const ENROLLMENT = '/EnrollmentServer/Enrollment.svc';
const SOAP_TYPE = 'application/soap+xml; charset=utf-8';

describe('malformed input never reaches a 500', () => {
  let t: TestApp;
  let s: Seeded;
  beforeAll(async () => {
    t = await startTestApp(__filename, { JSON_MAX_DEPTH: '16' });
    s = await seedDevice(t);
  });
  afterAll(() => t.close());

  const count = (collection: string) => t.db.collection(collection).countDocuments({});
  const counts = async () => ({
    organizations: await count('organizations'),
    enterprises: await count('win_enterprises'),
    devices: await count('win_devices'),
    batches: await count('win_command_batches'),
    commands: await count('win_commands'),
  });
  const enterpriseUrl = () => `/v1/organizations/${s.slug}/mdm/windows/enterprise`;
  const missingDeviceUrl = () => commandsUrl({ slug: s.slug, deviceId: uniqueDeviceId() });

  describe('Content-Encoding on the admin API', () => {
    const validOrg = () => Buffer.from(JSON.stringify({ name: 'Zipped Org' }));
    const postOrg = (enc: string, body: Buffer, token: string | null = s.token) => {
      const r = t.http
        .post('/v1/organizations')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', enc)
        .serialize(asIs);
      return (token ? r.set(bearer(token)) : r).send(body);
    };

    const cases = ENCODINGS.flatMap((enc) =>
      corruptBodies(enc, validOrg()).map(([what, body]) => ({ enc, what, body })),
    );
    it.each(cases)('$enc: $what → 400 5091 before authentication, nothing logged', async (c) => {
      const before = await counts();
      const [[withToken, withoutToken], logged] = await errorOutput(async () => [
        await postOrg(c.enc, c.body),
        await postOrg(c.enc, c.body, null),
      ]);
      for (const res of [withToken, withoutToken]) {
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          status: false,
          error: { code: 5091, message: 'Malformed request body' },
        });
      }
      expect(logged).toBe('');
      expect(await counts()).toEqual(before);
    });

    it.each(ENCODINGS)('%s of garbage decodes, then fails as JSON: 400 5091', async (enc) => {
      const res = await postOrg(enc, compress(enc, randomBytes(256)));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(5091);
    });

    it.each(ENCODINGS)('a well-formed %s body is still accepted', async (enc) => {
      const res = await postOrg(enc, compress(enc, validOrg()));
      expect(res.status).toBe(200);
      expect(res.body.data.name).toBe('Zipped Org');
    });

    it('an unsupported Content-Encoding → 415 4015 naming it, before authentication', async () => {
      for (const token of [s.token, null]) {
        const res = await postOrg('compress', validOrg(), token);
        expect(res.status).toBe(415);
        expect(res.body).toEqual({
          status: false,
          error: {
            code: 4015,
            message: 'Content-Encoding must be gzip, deflate, br or identity (got compress)',
          },
        });
      }
    });

    it('a body over BODY_LIMIT → 413, and so does a small gzip that inflates beyond it', async () => {
      const before = await counts();
      const big = Buffer.from(JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }));
      const [[plain, bomb], logged] = await errorOutput(async () => [
        await t.http
          .post('/v1/organizations')
          .set(bearer(s.token))
          .set('Content-Type', 'application/json')
          .serialize(asIs)
          .send(big),
        await postOrg('gzip', gzipSync(big)),
      ]);
      expect(gzipSync(big).length).toBeLessThan(16 * 1024);
      for (const res of [plain, bomb]) {
        expect(res.status).toBe(413);
        expect(res.body).toEqual({
          status: false,
          error: { code: 5091, message: 'Request body too large' },
        });
      }
      expect(logged).toBe('');
      expect(await counts()).toEqual(before);
    });
  });

  describe('Content-Encoding on the device listener', () => {
    const opening = Buffer.from(
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>' +
        '<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>x</LocURI></Target>' +
        '<Source><LocURI>DEV</LocURI></Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>',
    );
    const cases = ENCODINGS.flatMap((enc) =>
      corruptBodies(enc, opening).map(([what, body]) => ({ enc, what, body })),
    );

    it.each(cases)(
      'SyncML, $enc: $what → plain-text 400 before the certificate is looked at',
      async (c) => {
        const [r, logged] = await errorOutput(() =>
          devicePost(t, SYNCML, null, c.body, SYNCML_TYPE, { 'Content-Encoding': c.enc }),
        );
        expect(r.status).toBe(400);
        expect(r.contentType).toMatch(/^text\/plain/);
        expect(r.body).toBe('Malformed request body');
        expect(logged).toBe('');
      },
    );

    it('SyncML: an unsupported Content-Encoding → plain-text 415', async () => {
      const r = await devicePost(t, SYNCML, null, opening, SYNCML_TYPE, {
        'Content-Encoding': 'x-snappy',
      });
      expect(r.status).toBe(415);
      expect(r.contentType).toMatch(/^text\/plain/);
      expect(r.body).toBe('Content-Encoding must be gzip, deflate, br or identity (got x-snappy)');
    });

    it('SyncML: a gzip that inflates beyond SYNCML_BODY_LIMIT_BYTES → plain-text 413', async () => {
      const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20));
      const [r, logged] = await errorOutput(() =>
        devicePost(t, SYNCML, null, bomb, SYNCML_TYPE, { 'Content-Encoding': 'gzip' }),
      );
      expect(r.status).toBe(413);
      expect(r.contentType).toMatch(/^text\/plain/);
      expect(r.body).toBe('Request body too large');
      expect(logged).toBe('');
    });

    it.each(cases)('enrollment SOAP, $enc: $what → MessageFormat fault', async (c) => {
      const [r, logged] = await errorOutput(() =>
        devicePost(t, ENROLLMENT, null, c.body, SOAP_TYPE, { 'Content-Encoding': c.enc }),
      );
      // MS-MDE2 faults use ENROLLMENT_FAULT_HTTP_STATUS (500 by default), like every other
      // unreadable envelope: the device-protocol answer, not an unhandled error.
      expect(r.status).toBe(500);
      expect(readFault(r.body)?.subcode).toBe('s:MessageFormat');
      expect(logged).toBe('');
    });

    it('enrollment SOAP: an unsupported Content-Encoding → MessageFormat fault', async () => {
      const r = await devicePost(t, ENROLLMENT, null, Buffer.from('<x/>'), SOAP_TYPE, {
        'Content-Encoding': 'compress',
      });
      expect(readFault(r.body)?.subcode).toBe('s:MessageFormat');
    });
  });

  describe('shape mismatches → 400 5091 with details, before any lookup', () => {
    const post = (url: string, body: string) =>
      t.http.post(url).set(bearer(s.token)).set('Content-Type', 'application/json').send(body);
    const cfg = { path: './DevDetail/SwV', action: 'Get', format: 'chr' };
    const commandBodies: [string, unknown, string][] = [
      ['an empty array as a command', { commands: [[]] }, 'commands'],
      ['an array of configs as a command', { commands: [[{ config: cfg }]] }, 'commands'],
      ['a config that is an array', { commands: [{ config: [] }] }, 'commands.0.config'],
      [
        'a config that is an array of configs',
        { commands: [{ config: [cfg] }] },
        'commands.0.config',
      ],
      ['a config that is a string', { commands: [{ config: 'Get' }] }, 'commands.0.config'],
      ['a config that is a number', { commands: [{ config: 7 }] }, 'commands.0.config'],
      ['a config that is null', { commands: [{ config: null }] }, 'commands.0.config'],
      ['a config that is true', { commands: [{ config: true }] }, 'commands.0.config'],
      ['commands an object', { commands: { config: cfg } }, 'commands'],
      ['commands a string', { commands: 'Get' }, 'commands'],
      ['commands null', { commands: null }, 'commands'],
      ['a command that is a string', { commands: ['Get'] }, 'commands.0'],
      ['a command that is null', { commands: [null] }, 'commands.0'],
      [
        'a path that is an array',
        { commands: [{ config: { ...cfg, path: ['./A'] } }] },
        'commands.0.config.path',
      ],
      [
        'a path that is an object',
        { commands: [{ config: { ...cfg, path: { a: 1 } } }] },
        'commands.0.config.path',
      ],
      [
        'an action that is an array',
        { commands: [{ config: { ...cfg, action: ['Get'] } }] },
        'commands.0.config.action',
      ],
      [
        'a value that is a number',
        { commands: [{ config: { ...cfg, value: 1 } }] },
        'commands.0.config.value',
      ],
      ['a name that is an array', { commands: [{ config: cfg }], name: ['x'] }, 'name'],
    ];

    it.each(commandBodies.map(([name, body, field]) => ({ name, body, field })))(
      'commands: $name → names $field (for a device that does not exist too)',
      async ({ body, field }) => {
        const before = await counts();
        for (const url of [commandsUrl(s), missingDeviceUrl()]) {
          const res = await post(url, JSON.stringify(body));
          expectInvalid(res, field);
        }
        expect(await counts()).toEqual(before);
      },
    );

    it('a body that is not a JSON object → 400 5091, for a device that does not exist too', async () => {
      const array = JSON.stringify([{ commands: [{ config: cfg }] }]);
      for (const body of ['null', '7', '"commands"', 'true', '[]', array]) {
        for (const url of [commandsUrl(s), missingDeviceUrl()]) {
          const res = await post(url, body);
          expect(res.status).toBe(400);
          expect(res.body.error.code).toBe(5091);
          expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'request' })]);
        }
      }
    });

    it('organizations, devices, enterprise, cancel, invitations: wrong types anywhere', async () => {
      const batchId = new Types.ObjectId().toHexString();
      const cmd = { path: './DevDetail/SwV', action: 'Get', format: 'chr' };
      const deviceUrl = `${enterpriseUrl()}/devices`;
      const before = await counts();
      const checks: [string, string, unknown, string][] = [
        ['POST', '/v1/organizations', { name: ['Org'] }, 'name'],
        ['POST', '/v1/organizations', { name: 'Org', slug: { $gt: '' } }, 'slug'],
        ['POST', deviceUrl, { deviceId: [uniqueDeviceId()] }, 'deviceId'],
        ['POST', deviceUrl, { deviceId: uniqueDeviceId(), name: { a: 1 } }, 'name'],
        ['PATCH', `${deviceUrl}/${s.deviceId}`, { status: ['active'] }, 'status'],
        ['PATCH', `${deviceUrl}/${uniqueDeviceId()}`, { name: [[]] }, 'name'],
        ['PATCH', enterpriseUrl(), { domains: [['contoso.com']] }, 'domains'],
        ['PATCH', enterpriseUrl(), { domains: 'contoso.com' }, 'domains'],
        ['PATCH', enterpriseUrl(), { name: null }, 'name'],
        ['PATCH', enterpriseUrl(), { domains: null }, 'domains'],
        ['PATCH', `${deviceUrl}/${s.deviceId}`, { name: null }, 'name'],
        ['PATCH', `${deviceUrl}/${s.deviceId}`, { certificate: null }, 'certificate'],
        ['POST', '/v1/organizations', { name: 'Org', slug: null }, 'slug'],
        [
          'POST',
          commandsUrl(s),
          { commands: [{ config: { ...cmd, value: null } }] },
          'commands.0.config.value',
        ],
        ['POST', `${commandsUrl(s)}${batchId}/cancel`, { cmdIds: [['a']] }, 'cmdIds'],
        ['POST', `${missingDeviceUrl()}${batchId}/cancel`, { cmdIds: 'a' }, 'cmdIds'],
        [
          'POST',
          `${enterpriseUrl()}/enrollment-tokens`,
          { userEmails: [['a@b.test']] },
          'userEmails',
        ],
        [
          'POST',
          `${enterpriseUrl()}/enrollment-tokens`,
          { userEmails: ['a@b.test'], duration: [60] },
          'duration',
        ],
      ];
      for (const [method, url, body, field] of checks) {
        const req = method === 'POST' ? t.http.post(url) : t.http.patch(url);
        const res = await req.set(bearer(s.token)).send(body as object);
        expectInvalid(res, field);
      }
      expect(await counts()).toEqual(before);
    });

    it('an organization that does not exist with a bad body → 400, not 404', async () => {
      const res = await post(
        '/v1/organizations/no-such-org-anywhere/mdm/windows/enterprise/devices',
        JSON.stringify({ deviceId: 5 }),
      );
      expectInvalid(res, 'deviceId');
    });
  });

  describe('JSON_MAX_DEPTH (16 here)', () => {
    const nest = (depth: number, open = '[', close = ']') =>
      `${open.repeat(depth)}${close.repeat(depth)}`;
    const nestObjects = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;

    it('refuses arrays and objects nested deeper than the limit with 400 5091, before validation', async () => {
      const before = await counts();
      const bodies = [
        `{"commands":${nest(16)}}`,
        nestObjects(17),
        `{"name":"Org","slug":${nest(100_000)}}`,
        // Brackets inside strings are text, not nesting.
        `{"name":"${'['.repeat(10)}", "x":${nest(16)}}`,
      ];
      for (const body of bodies) {
        for (const token of [s.token, null]) {
          const r = t.http.post('/v1/organizations').set('Content-Type', 'application/json');
          const res = await (token ? r.set(bearer(token)) : r).send(body);
          expect(res.status).toBe(400);
          expect(res.body).toEqual({
            status: false,
            error: {
              code: 5091,
              message: MESSAGES[5091],
              details: [{ field: 'request', message: 'JSON nested deeper than 16 levels' }],
            },
          });
        }
      }
      expect(await counts()).toEqual(before);
    });

    it('accepts exactly the limit, brackets in strings and escaped quotes', async () => {
      const res = await t.http
        .post('/v1/organizations')
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send(`{"name":"Deep \\"[[[{{{\\\\","slug":${nest(15)}}`);
      // Within the limit: parsed, then refused by validation for what it is (slug not a string).
      expectInvalid(res, 'slug');
      expect(nestObjects(16)).toContain('{}');
      const ok = await t.http
        .post('/v1/organizations')
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send(`{"name":"Deep \\"[[[{{{\\\\"}`);
      expect(ok.status).toBe(200);
      expect(ok.body.data.name).toBe('Deep "[[[{{{\\');
    });
  });

  describe('prototype-pollution keys', () => {
    const keys = ['__proto__', 'constructor', 'prototype'];
    afterEach(() => {
      const fresh: Record<string, unknown> = {};
      expect(fresh.polluted).toBeUndefined();
      expect(fresh.isAdmin).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    });

    it.each(keys)('"%s" at the top level is an unknown field: 400 5091 naming it', async (key) => {
      const before = await counts();
      const res = await t.http
        .post('/v1/organizations')
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send(`{"name":"Proto Org","${key}":{"polluted":true,"isAdmin":true}}`);
      expectInvalid(res, key);
      expect(await counts()).toEqual(before);
    });

    it.each(keys)('"%s" nested in a command config is refused, naming its path', async (key) => {
      const before = await counts();
      const res = await t.http
        .post(commandsUrl(s))
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send(
          `{"commands":[{"config":{"path":"./A","action":"Get","format":"chr",` +
            `"${key}":{"polluted":true}}}]}`,
        );
      expectInvalid(res, `commands.0.config.${key}`);
      expect(await counts()).toEqual(before);
    });

    it('an escaped spelling of __proto__ is the same key', async () => {
      const res = await t.http
        .post('/v1/organizations')
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send('{"name":"Proto Org","\\u005f_proto__":{"polluted":true}}');
      expectInvalid(res, '__proto__');
    });

    it('inside an array element and in PATCH bodies too', async () => {
      const res = await t.http
        .patch(enterpriseUrl())
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send('{"domains":["contoso.com"],"constructor":{"prototype":{"polluted":true}}}');
      expectInvalid(res, 'constructor');
      const dev = await t.http
        .patch(`${enterpriseUrl()}/devices/${s.deviceId}`)
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send('{"__proto__":{"status":"inactive"}}');
      expectInvalid(dev, '__proto__');
      const stored = await t.db
        .collection('win_devices')
        .findOne({ _id: new Types.ObjectId(s.winDeviceId) });
      expect(stored?.status).toBe('active');
    });
  });
});
