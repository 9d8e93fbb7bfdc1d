import { Types } from 'mongoose';
import { bearer, startTestApp, TestApp } from '../support/app';
import { commandsUrl, seedDevice, Seeded } from '../support/seed';
import { expectError, expectNotJson } from './expect-error';

const cfg = (path: string, action: string, format: string, value?: string) => ({
  config: value === undefined ? { path, action, format } : { path, action, format, value },
});

describe('POST …/devices/:winDeviceId/commands/', () => {
  let t: TestApp;
  let s: Seeded;

  beforeAll(async () => {
    t = await startTestApp(__filename);
    s = await seedDevice(t);
  });
  afterAll(() => t.close());

  const post = (body: unknown, url = commandsUrl(s)) =>
    t.http
      .post(url)
      .set(bearer(s.token))
      .send(body as object);
  const storedCommands = () =>
    t.db
      .collection('win_commands')
      .countDocuments({ winDeviceId: new Types.ObjectId(s.winDeviceId) });

  it('queues the batch in the seed shape, in request order, and stores one document per command', async () => {
    const commands = [
      cfg('./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', 'Replace', 'int', '0'),
      cfg('./DevDetail/SwV', 'Get', 'chr'),
      cfg('./Vendor/MSFT/Test/Node', 'Add', 'node'),
      cfg('./Vendor/MSFT/Test/Node', 'Delete', 'null'),
    ];
    const res = await post({ commands, name: 'first batch' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe(true);
    const d = res.body.data;
    expect(Object.keys(d)).toEqual([
      'id',
      'organizationId',
      'winEnterpriseId',
      'winDeviceId',
      'mdmUserId',
      'commands',
      'updatedAt',
      'createdAt',
      'name',
      'summary',
    ]);
    // The same name and status summary GET …/commands/:winCommandId answers.
    expect(d.name).toBe('first batch');
    expect(d.summary).toEqual([{ status: 'Pending', count: 4 }]);
    expect(d.id).toMatch(/^[a-f0-9]{24}$/);
    expect(d.organizationId).toBe(s.orgId);
    expect(d.winEnterpriseId).toBe(s.enterpriseId);
    expect(d.winDeviceId).toBe(s.winDeviceId);
    expect(d.mdmUserId).toBeNull();
    expect(new Date(d.createdAt).toISOString()).toBe(d.createdAt);
    expect(d.commands.map((c: { config: unknown }) => c.config)).toEqual(
      commands.map((c) => c.config),
    );
    const ids = d.commands.map((c: { cmdId: string }) => c.cmdId);
    expect(new Set(ids).size).toBe(4);
    for (const c of d.commands) {
      expect(Object.keys(c)).toEqual([
        'cmdId',
        'status',
        'config',
        'data',
        'statusCode',
        'sentAt',
        'receivedAt',
        'canceledAt',
      ]);
      expect(c).toMatchObject({
        status: 'Pending',
        data: [],
        statusCode: null,
        sentAt: null,
        receivedAt: null,
        canceledAt: null,
      });
      expect(c.cmdId.length).toBeLessThanOrEqual(128);
    }
    const docs = await t.db
      .collection('win_commands')
      .find({ batchId: new Types.ObjectId(d.id) })
      .sort({ position: 1 })
      .toArray();
    expect(docs.map((x) => x.cmdId)).toEqual(ids);
    expect(docs.map((x) => x.status)).toEqual(['Pending', 'Pending', 'Pending', 'Pending']);
    const batch = await t.db
      .collection('win_command_batches')
      .findOne({ _id: new Types.ObjectId(d.id) });
    expect(batch).toMatchObject({ createdBy: 'admin-1', name: 'first batch', commandCount: 4 });
    // The device's queue marker moved once, and no write is left in flight.
    const device = await t.db
      .collection('win_devices')
      .findOne({ _id: new Types.ObjectId(s.winDeviceId) });
    expect(device).toMatchObject({ queueSeq: 1, queueWrites: 0 });
  });

  it('answers without the trailing slash too', async () => {
    const res = await post(
      { commands: [cfg('./DevDetail/SwV', 'Get', 'chr')] },
      commandsUrl(s, false),
    );
    expect(res.status).toBe(200);
    expect(res.body.data.commands).toHaveLength(1);
  });

  it.each(['Add', 'Copy', 'Delete', 'Exec', 'Get', 'Replace'])(
    'accepts action %s',
    async (action) => {
      const value = { Add: 'x', Copy: './Vendor/MSFT/Source', Exec: 'go', Replace: 'y' }[
        action as string
      ];
      const res = await post({ commands: [cfg('./Vendor/MSFT/Node', action, 'chr', value)] });
      expect(res.status).toBe(200);
      expect(res.body.data.commands[0].config.action).toBe(action);
    },
  );

  it.each([
    ['b64', 'aGVsbG8='],
    ['bin', 'AAEC'],
    ['bool', 'true'],
    ['chr', 'any text & <stuff>'],
    ['int', '-42'],
    ['node', undefined],
    ['null', undefined],
    ['xml', '<a x="1"><b>t</b></a>'],
    ['date', '2026-02-28'],
    ['time', '13:45:10Z'],
    ['float', '3.25e2'],
  ])('accepts format %s', async (format, value) => {
    const res = await post({ commands: [cfg('./Vendor/MSFT/Node', 'Replace', format, value)] });
    expect(res.status).toBe(200);
    expect(res.body.data.commands[0].config.format).toBe(format);
  });

  it('accepts a path and a value of exactly 500 characters', async () => {
    const path = './' + 'a'.repeat(498);
    const res = await post({ commands: [cfg(path, 'Replace', 'chr', 'v'.repeat(500))] });
    expect(res.status).toBe(200);
  });

  describe('400 5091, nothing stored', () => {
    let before: number;
    beforeEach(async () => {
      before = await storedCommands();
    });
    afterEach(async () => {
      expect(await storedCommands()).toBe(before);
    });

    const expect5091 = async (body: unknown, field: string | RegExp, url?: string) => {
      const res = await post(body, url);
      expect(res.status).toBe(400);
      expect(res.body.status).toBe(false);
      expect(res.body.error.code).toBe(5091);
      expect(res.body.error.message).toBe('Invalid data');
      const fields = (res.body.error.details ?? []).map((x: { field: string }) => x.field);
      expect(
        fields.some((f: string) => (typeof field === 'string' ? f === field : field.test(f))),
      ).toBe(true);
      return res;
    };

    it.each([
      ['missing commands', {}, 'commands'],
      ['empty commands', { commands: [] }, 'commands'],
      ['commands not an array', { commands: 'x' }, 'commands'],
      ['missing config', { commands: [{}] }, 'commands.0.config'],
      ['unknown top-level field', { commands: [cfg('./A/B', 'Get', 'chr')], extra: 1 }, 'extra'],
      [
        'unknown command field',
        { commands: [{ ...cfg('./A/B', 'Get', 'chr'), other: 1 }] },
        'commands.0.other',
      ],
      [
        'unknown config field',
        { commands: [{ config: { path: './A', action: 'Get', format: 'chr', x: 1 } }] },
        'commands.0.config.x',
      ],
      [
        'missing path',
        { commands: [{ config: { action: 'Get', format: 'chr' } }] },
        'commands.0.config.path',
      ],
      [
        'path 501 characters',
        { commands: [cfg('./' + 'a'.repeat(499), 'Get', 'chr')] },
        'commands.0.config.path',
      ],
      [
        'value 501 characters',
        { commands: [cfg('./A', 'Replace', 'chr', 'v'.repeat(501))] },
        'commands.0.config.value',
      ],
      [
        'path not a string',
        { commands: [{ config: { path: 5, action: 'Get', format: 'chr' } }] },
        'commands.0.config.path',
      ],
      [
        'value not a string',
        { commands: [{ config: { path: './A', action: 'Replace', format: 'int', value: 5 } }] },
        'commands.0.config.value',
      ],
      ['unknown action', { commands: [cfg('./A', 'Put', 'chr')] }, 'commands.0.config.action'],
      ['lower-case action', { commands: [cfg('./A', 'get', 'chr')] }, 'commands.0.config.action'],
      [
        'missing action',
        { commands: [{ config: { path: './A', format: 'chr' } }] },
        'commands.0.config.action',
      ],
      ['unknown format', { commands: [cfg('./A', 'Get', 'string')] }, 'commands.0.config.format'],
      [
        'missing format',
        { commands: [{ config: { path: './A', action: 'Get' } }] },
        'commands.0.config.format',
      ],
      [
        'path without ./',
        { commands: [cfg('Device/Vendor/MSFT', 'Get', 'chr')] },
        'commands.0.config.path',
      ],
      [
        'path starting with /',
        { commands: [cfg('/Device/Vendor', 'Get', 'chr')] },
        'commands.0.config.path',
      ],
      [
        'path with a space',
        { commands: [cfg('./Device/Ven dor', 'Get', 'chr')] },
        'commands.0.config.path',
      ],
      [
        'path with a tab',
        { commands: [cfg('./Device/Ven\tdor', 'Get', 'chr')] },
        'commands.0.config.path',
      ],
      [
        'path with a control char',
        { commands: [cfg('./Device/\u0001', 'Get', 'chr')] },
        'commands.0.config.path',
      ],
      [
        'path with empty segment',
        { commands: [cfg('./Device//x', 'Get', 'chr')] },
        'commands.0.config.path',
      ],
      ['value on Get', { commands: [cfg('./A', 'Get', 'chr', 'x')] }, 'commands.0.config.value'],
      [
        'value on Delete',
        { commands: [cfg('./A', 'Delete', 'chr', 'x')] },
        'commands.0.config.value',
      ],
      [
        'control char in value',
        { commands: [cfg('./A', 'Replace', 'chr', 'a\u0002b')] },
        'commands.0.config.value',
      ],
      [
        'U+FFFE in value',
        { commands: [cfg('./A', 'Replace', 'chr', 'a\ufffeb')] },
        'commands.0.config.value',
      ],
      [
        'int not a number',
        { commands: [cfg('./A', 'Replace', 'int', '1.5')] },
        'commands.0.config.value',
      ],
      [
        'int with letters',
        { commands: [cfg('./A', 'Replace', 'int', '12a')] },
        'commands.0.config.value',
      ],
      [
        'bool not true/false',
        { commands: [cfg('./A', 'Replace', 'bool', 'True')] },
        'commands.0.config.value',
      ],
      ['bool 1', { commands: [cfg('./A', 'Replace', 'bool', '1')] }, 'commands.0.config.value'],
      [
        'float junk',
        { commands: [cfg('./A', 'Replace', 'float', '1.2.3')] },
        'commands.0.config.value',
      ],
      ['b64 junk', { commands: [cfg('./A', 'Replace', 'b64', 'abc$')] }, 'commands.0.config.value'],
      [
        'b64 bad padding',
        { commands: [cfg('./A', 'Replace', 'b64', 'abcde')] },
        'commands.0.config.value',
      ],
      [
        'xml not well-formed',
        { commands: [cfg('./A', 'Replace', 'xml', '<a><b></a>')] },
        'commands.0.config.value',
      ],
      [
        'xml with DOCTYPE',
        { commands: [cfg('./A', 'Replace', 'xml', '<!DOCTYPE x [<!ENTITY e "x">]><a>&e;</a>')] },
        'commands.0.config.value',
      ],
      [
        'date not ISO',
        { commands: [cfg('./A', 'Replace', 'date', '28/02/2026')] },
        'commands.0.config.value',
      ],
      [
        'date impossible',
        { commands: [cfg('./A', 'Replace', 'date', '2026-02-30')] },
        'commands.0.config.value',
      ],
      [
        'time not ISO',
        { commands: [cfg('./A', 'Replace', 'time', '25:00')] },
        'commands.0.config.value',
      ],
      ['value on node', { commands: [cfg('./A', 'Add', 'node', 'x')] }, 'commands.0.config.value'],
      [
        'Replace int without value',
        { commands: [cfg('./A', 'Replace', 'int')] },
        'commands.0.config.value',
      ],
      ['Copy without source', { commands: [cfg('./A', 'Copy', 'chr')] }, 'commands.0.config.value'],
      [
        'name 501 characters',
        { commands: [cfg('./A', 'Get', 'chr')], name: 'n'.repeat(501) },
        'name',
      ],
    ])('%s', async (_label, body, field) => {
      await expect5091(body, field);
    });

    it('reports every invalid command, by index', async () => {
      const res = await expect5091(
        {
          commands: [
            cfg('./ok', 'Get', 'chr'),
            cfg('bad', 'Get', 'chr'),
            cfg('./A', 'Replace', 'int', 'x'),
          ],
        },
        'commands.1.config.path',
      );
      expect(res.body.error.details.map((x: { field: string }) => x.field)).toEqual(
        expect.arrayContaining(['commands.1.config.path', 'commands.2.config.value']),
      );
    });

    it('refuses more than the configured maximum (default 100), accepts exactly 100', async () => {
      const many = (n: number) => ({
        commands: Array.from({ length: n }, (_, i) => cfg(`./N/${i}`, 'Get', 'chr')),
      });
      await expect5091(many(101), 'commands');
      const ok = await post(many(100));
      expect(ok.status).toBe(200);
      before += 100;
    });

    it('refuses an organizationId that breaks its pattern', async () => {
      await expect5091(
        { commands: [cfg('./A', 'Get', 'chr')] },
        'organizationId',
        commandsUrl({ slug: 'a_b', deviceId: s.deviceId }),
      );
      await expect5091(
        { commands: [cfg('./A', 'Get', 'chr')] },
        'organizationId',
        commandsUrl({ slug: 'ab', deviceId: s.deviceId }),
      );
    });

    it('refuses a winDeviceId that breaks its pattern', async () => {
      await expect5091(
        { commands: [cfg('./A', 'Get', 'chr')] },
        'winDeviceId',
        commandsUrl({ slug: s.slug, deviceId: 'abc-def' }),
      );
    });

    it('refuses a malformed JSON body with 5091', async () => {
      const res = await t.http
        .post(commandsUrl(s))
        .set(bearer(s.token))
        .set('Content-Type', 'application/json')
        .send('{"commands": [');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(5091);
    });
  });

  describe('one message per field', () => {
    it.each([
      [
        'a number for each string: the type, not also its length',
        {
          commands: [{ config: { path: 5, action: 'Get', format: 'chr' } }],
          name: 12,
        },
        [
          { field: 'commands.0.config.path', message: 'path must be a string' },
          { field: 'name', message: 'name must be a string' },
        ],
      ],
      [
        'a number for value',
        { commands: [{ config: { path: './A', action: 'Replace', format: 'int', value: 5 } }] },
        [{ field: 'commands.0.config.value', message: 'value must be a string' }],
      ],
      [
        'commands missing',
        {},
        [{ field: 'commands', message: 'commands should not be null or undefined' }],
      ],
      [
        'commands not an array',
        { commands: 'x' },
        [{ field: 'commands', message: 'commands must be an array' }],
      ],
      [
        'commands empty',
        { commands: [] },
        [{ field: 'commands', message: 'commands should not be empty' }],
      ],
      [
        'an empty path',
        { commands: [cfg('', 'Get', 'chr')] },
        [{ field: 'commands.0.config.path', message: 'path should not be empty' }],
      ],
      [
        'a missing action',
        { commands: [{ config: { path: './A', format: 'chr' } }] },
        [{ field: 'commands.0.config.action', message: 'action should not be null or undefined' }],
      ],
    ])('%s', async (_label, body, details) => {
      const before = await storedCommands();
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        status: false,
        error: { code: 5091, message: 'Invalid data', details },
      });
      expect(await storedCommands()).toBe(before);
    });
  });

  describe('415 4015 for a body that is not JSON, nothing stored', () => {
    const json = JSON.stringify({ commands: [cfg('./DevDetail/SwV', 'Get', 'chr')] });

    it.each([
      ['text/plain', 'text/plain'],
      ['text/plain; charset=utf-8', 'text/plain'],
      ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
      ['application/xml', 'application/xml'],
    ])('Content-Type %s', async (type, got) => {
      const before = await storedCommands();
      const res = await t.http
        .post(commandsUrl(s))
        .set(bearer(s.token))
        .set('Content-Type', type)
        .send(json);
      expectNotJson(res, got);
      expect(await storedCommands()).toBe(before);
    });

    it('no Content-Type at all', async () => {
      const res = await t.http.post(commandsUrl(s)).set(bearer(s.token)).send(Buffer.from(json));
      expectNotJson(res, 'none');
    });

    it('authentication answers first', async () => {
      const res = await t.http.post(commandsUrl(s)).set('Content-Type', 'text/plain').send(json);
      expectError(res, 4002);
    });

    it('accepts application/json with a charset', async () => {
      const res = await t.http
        .post(commandsUrl(s))
        .set(bearer(s.token))
        .set('Content-Type', 'application/json; charset=utf-8')
        .send(json);
      expect(res.status).toBe(200);
      expect(res.body.data.commands).toHaveLength(1);
    });

    it('applies to every JSON endpoint with a body, not to one without', async () => {
      const org = await t.http
        .post('/v1/organizations')
        .set(bearer(s.token))
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ name: 'Plain Org' }));
      expectNotJson(org, 'text/plain');
      // A POST without a body needs no Content-Type.
      const batch = await post({ commands: [cfg('./DevDetail/SwV', 'Get', 'chr')] });
      const cancel = await t.http
        .post(`${commandsUrl(s)}${batch.body.data.id}/cancel`)
        .set(bearer(s.token));
      expect(cancel.status).toBe(200);
      expect(cancel.body.data.results).toEqual([
        { cmdId: batch.body.data.commands[0].cmdId, canceled: true, status: 'Cancel' },
      ]);
    });
  });

  it('uses a configurable maximum', async () => {
    const small = await startTestApp(__filename, { COMMANDS_MAX_PER_BATCH: '2' });
    try {
      const seeded = await seedDevice(small);
      const body = {
        commands: [cfg('./A', 'Get', 'chr'), cfg('./B', 'Get', 'chr'), cfg('./C', 'Get', 'chr')],
      };
      const res = await small.http.post(commandsUrl(seeded)).set(bearer(seeded.token)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([
        { field: 'commands', message: 'at most 2 commands per request' },
      ]);
    } finally {
      await small.close();
    }
  });
});
