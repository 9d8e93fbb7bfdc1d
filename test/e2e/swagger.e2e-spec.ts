import { INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { IS_PUBLIC } from '../../src/auth/auth.decorators';
import { bearer, startTestApp, TestApp } from '../support/app';
import { seedDevice, Seeded } from '../support/seed';

// The seed's path-parameter patterns, verbatim.
const ORG_PATTERN = '^(([a-fA-F0-9]{24})|([a-zA-Z0-9\\-]{3,}))$';
const DEVICE_PATTERN = '^(([a-fA-F0-9]{24})|(\\w{1,}))$';
// @nestjs/swagger's metadata keys for @ApiExcludeController / @ApiExcludeEndpoint (its
// constants are not exported: package.json `exports`).
const EXCLUDE_CONTROLLER = 'swagger/apiExcludeController';
const EXCLUDE_ENDPOINT = 'swagger/apiExcludeEndpoint';
const ACTIONS = ['Add', 'Copy', 'Delete', 'Exec', 'Get', 'Replace'];
const FORMATS = [
  'b64',
  'bin',
  'bool',
  'chr',
  'int',
  'node',
  'null',
  'xml',
  'date',
  'time',
  'float',
];

const DEVICE_BASE_URL = 'https://mdm.example.test';
const ORG = '/v1/organizations/{organizationId}';
const ENTERPRISE = `${ORG}/mdm/windows/enterprise`;
const DEVICE = `${ENTERPRISE}/devices/{winDeviceId}`;
const COMMANDS = `${DEVICE}/commands`;

/** Every operation of the REST API and the error codes it must document. */
const OPERATIONS: Array<[method: string, path: string, codes: number[]]> = [
  ['post', '/v1/organizations', [5091, 4015, 4002, 4004, 4003, 4009]],
  ['get', ORG, [5091, 4002, 4004, 4003, 3001]],
  ['post', ENTERPRISE, [5091, 4015, 4002, 4004, 4003, 3001, 4009]],
  ['get', ENTERPRISE, [5091, 4002, 4004, 4003, 3001]],
  ['patch', ENTERPRISE, [5091, 4015, 4002, 4004, 4003, 3001, 4009]],
  ['post', `${ENTERPRISE}/enrollment-secret`, [5091, 4002, 4004, 4003, 3001]],
  ['post', `${ENTERPRISE}/enrollment-tokens`, [5091, 4015, 4002, 4004, 4003, 3001]],
  ['post', `${ENTERPRISE}/devices`, [5091, 4015, 4002, 4004, 4003, 3001, 4009]],
  ['get', `${ENTERPRISE}/devices`, [5091, 4002, 4004, 4003, 3001]],
  ['get', DEVICE, [5091, 4002, 4004, 4003, 3001]],
  ['patch', DEVICE, [5091, 5142, 4015, 4002, 4004, 4003, 3001, 4009]],
  ['get', `${DEVICE}/events`, [5091, 4002, 4004, 4003, 3001]],
  ['post', `${DEVICE}/unenroll`, [5091, 4002, 4004, 4003, 3001]],
  ['post', COMMANDS, [5091, 5142, 4015, 4002, 4004, 4003, 3001, 4009]],
  ['post', `${DEVICE}/actions`, [5091, 5142, 4015, 4002, 4004, 4003, 3001, 4009]],
  ['get', COMMANDS, [5091, 4002, 4004, 4003, 3001]],
  ['get', `${COMMANDS}/{winCommandId}`, [5091, 4002, 4004, 4003, 3001]],
  ['get', `${COMMANDS}/{winCommandId}/actions`, [5091, 4002, 4004, 4003, 3001]],
  ['post', `${COMMANDS}/{winCommandId}/cancel`, [5091, 4015, 4002, 4004, 4003, 3001]],
  ['get', `${ORG}/audit`, [5091, 4002, 4004, 4003, 3001]],
  ['post', `${ORG}/webhooks`, [5091, 4015, 4002, 4004, 4003, 3001]],
  ['get', `${ORG}/webhooks`, [5091, 4002, 4004, 4003, 3001]],
  ['get', `${ORG}/webhooks/{webhookId}`, [5091, 4002, 4004, 4003, 3001]],
  ['patch', `${ORG}/webhooks/{webhookId}`, [5091, 4015, 4002, 4004, 4003, 3001]],
  ['delete', `${ORG}/webhooks/{webhookId}`, [5091, 4002, 4004, 4003, 3001]],
  ['post', `${ORG}/webhooks/{webhookId}/rotate-secret`, [5091, 4002, 4004, 4003, 3001, 4009]],
  ['get', `${ORG}/webhooks/{webhookId}/deliveries`, [5091, 4002, 4004, 4003, 3001]],
  ['post', `${ORG}/webhooks/{webhookId}/test`, [5091, 4002, 4004, 4003, 3001]],
  [
    'post',
    `${ORG}/webhooks/{webhookId}/deliveries/{deliveryId}/retry`,
    [5091, 4002, 4004, 4003, 3001, 4009],
  ],
  ['post', `${ENTERPRISE}/profiles`, [5091, 4015, 4002, 4004, 4003, 3001, 4009, 4091]],
  ['get', `${ENTERPRISE}/profiles`, [5091, 4002, 4004, 4003, 3001]],
  ['get', `${ENTERPRISE}/profiles/{profileId}`, [5091, 4002, 4004, 4003, 3001]],
  ['patch', `${ENTERPRISE}/profiles/{profileId}`, [5091, 4015, 4002, 4004, 4003, 3001, 4009, 4091]],
  ['delete', `${ENTERPRISE}/profiles/{profileId}`, [5091, 4002, 4004, 4003, 3001]],
  ['get', `${ENTERPRISE}/profiles/{profileId}/status`, [5091, 4002, 4004, 4003, 3001]],
  ['get', `${DEVICE}/profiles`, [5091, 4002, 4004, 4003, 3001]],
  ['post', `${ENTERPRISE}/labels/{label}/devices`, [5091, 4015, 4002, 4004, 4003, 3001, 4091]],
  ['get', '/health', []],
  ['get', '/health/ready', []],
];

const HTTP_STATUS: Record<number, string> = {
  3001: '404',
  4002: '401',
  4003: '403',
  4004: '401',
  4009: '409',
  4091: '409',
  4015: '415',
  5091: '400',
  5142: '400',
};

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  example?: unknown;
};
type Parameter = { name: string; in: string; required?: boolean; schema: Schema };
type Example = { summary: string; value: { status: false; error: Record<string, unknown> } };
type Operation = {
  summary?: string;
  tags?: string[];
  servers?: { url: string; description?: string }[];
  'x-permission'?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<
    string,
    {
      description?: string;
      content?: Record<string, { schema: Schema; examples?: Record<string, Example> }>;
    }
  >;
  security?: Array<Record<string, string[]>>;
};
type OpenApi = {
  openapi: string;
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, unknown> };
};

type Metadata = Parameters<typeof Reflect.getMetadata>[1];
const meta = <T>(key: string, target: Metadata): T | undefined =>
  Reflect.getMetadata(key, target) as T | undefined;

/**
 * Every route the Nest controllers serve, as `method /path/{param}` → whether it is @Public(),
 * plus the routes hidden from Swagger on purpose (@ApiExcludeController / @ApiExcludeEndpoint).
 */
function applicationRoutes(app: INestApplication): {
  served: Map<string, boolean>;
  excluded: string[];
} {
  const served = new Map<string, boolean>();
  const excluded: string[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Metadata | null;
      if (!controller) continue;
      const prefixes = ([] as string[]).concat(
        meta<string | string[]>(PATH_METADATA, controller) ?? '',
      );
      const hiddenController = meta<boolean[]>(EXCLUDE_CONTROLLER, controller)?.[0] === true;
      const controllerPublic = meta<boolean>(IS_PUBLIC, controller) === true;
      const proto = (controller as { prototype: Record<string, Metadata> }).prototype;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = proto[name];
        const paths = meta<string | string[]>(PATH_METADATA, handler);
        if (name === 'constructor' || typeof handler !== 'function' || paths === undefined)
          continue;
        const method = RequestMethod[meta<RequestMethod>(METHOD_METADATA, handler)!].toLowerCase();
        const hidden =
          hiddenController ||
          meta<{ disable?: boolean }>(EXCLUDE_ENDPOINT, handler)?.disable === true;
        const isPublic = controllerPublic || meta<boolean>(IS_PUBLIC, handler) === true;
        for (const prefix of prefixes) {
          for (const p of ([] as string[]).concat(paths)) {
            const segments = [prefix, p].flatMap((x) => x.split('/')).filter(Boolean);
            const route = `${method} /${segments.join('/')}`.replace(/:(\w+)/g, '{$1}');
            if (hidden) excluded.push(route);
            else served.set(route, isPublic);
          }
        }
      }
    }
  }
  return { served, excluded };
}

describe('OpenAPI document at /docs-json', () => {
  let t: TestApp;
  let s: Seeded;
  let doc: OpenApi;

  beforeAll(async () => {
    // PORT is only documented here: the tests call the app without listening.
    t = await startTestApp(__filename, { PUBLIC_BASE_URL: DEVICE_BASE_URL, PORT: '3310' });
    s = await seedDevice(t);
    const res = await t.http.get('/docs-json');
    expect(res.status).toBe(200);
    doc = res.body as OpenApi;
  });
  afterAll(() => t.close());

  /** Follows `$ref` (and a single-element `allOf`, which @nestjs/swagger emits) to the schema. */
  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      const target = doc.components.schemas[name];
      if (!target) throw new Error(`dangling $ref ${schema.$ref}`);
      return resolve(target);
    }
    if (schema.allOf?.length === 1) return resolve(schema.allOf[0]);
    return schema;
  };
  const op = (method: string, path: string): Operation => {
    const found = doc.paths[path]?.[method];
    if (!found) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
    return found;
  };
  const param = (o: Operation, name: string): Parameter => {
    const found = (o.parameters ?? []).filter((p) => p.name === name);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const errorCodes = (o: Operation, status: string): number[] => {
    const schema = o.responses[status]?.content?.['application/json']?.schema;
    const error = schema && resolve(schema).properties?.error;
    return ((error && resolve(error).properties?.code?.enum) ?? []) as number[];
  };

  /** The error messages an operation documents for `status`, by code. */
  const examples = (o: Operation, status: string): Array<[number, string]> =>
    Object.values(o.responses[status]?.content?.['application/json']?.examples ?? {}).map((e) => [
      e.value.error.code as number,
      e.value.error.message as string,
    ]);
  const fill = (path: string) =>
    path
      .replace('{organizationId}', s.slug)
      .replace('{winDeviceId}', s.deviceId)
      .replace('{winCommandId}', '6650f1c2a1b2c3d4e5f60718');

  it('is served as OpenAPI 3 JSON and Swagger UI is served at /docs, both without a token', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const ui = await t.http.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
    expect(ui.text).toContain('swagger-ui');
  });

  it.each(OPERATIONS)('documents %s %s with each of its error responses', (method, path, codes) => {
    const o = op(method, path);
    expect(o.summary).toEqual(expect.any(String));
    expect(Object.keys(o.responses)).toContain('200');
    const byStatus = new Map<string, number[]>();
    for (const code of codes)
      byStatus.set(HTTP_STATUS[code], [...(byStatus.get(HTTP_STATUS[code]) ?? []), code]);
    for (const [status, expected] of byStatus) {
      expect(errorCodes(o, status)).toEqual(expect.arrayContaining(expected));
      for (const code of expected) expect(o.responses[status].description).toContain(String(code));
    }
  });

  it('documents every route the application serves, and only those', () => {
    const { served, excluded } = applicationRoutes(t.app);
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)),
    );
    expect([...served.keys()].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
    expect(excluded.filter((r) => documented.has(r))).toEqual([]);
    // Every endpoint of the table above is among them (the checks above cover any newer one).
    expect([...served.keys()]).toEqual(
      expect.arrayContaining(OPERATIONS.map(([m, p]) => `${m} ${p}`)),
    );
  });

  it('declares bearer JWT auth on every operation that needs a token, with its 401 and 403', () => {
    expect(doc.components.securitySchemes).toEqual({
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    const { served } = applicationRoutes(t.app);
    // Public: health, readiness, and the device protocols (devices prove themselves by TLS client
    // certificate or enrollment credentials, never by bearer token).
    expect(
      [...served.entries()]
        .filter(([, isPublic]) => isPublic)
        .map(([route]) => route)
        .sort(),
    ).toEqual(
      [
        'get /health',
        'get /health/ready',
        'post /ManagementServer/MDM.svc',
        'get /EnrollmentServer/Discovery.svc',
        'post /EnrollmentServer/Discovery.svc',
        'post /EnrollmentServer/Policy.svc',
        'post /EnrollmentServer/Enrollment.svc',
      ].sort(),
    );
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, o] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        if (served.get(where)) {
          expect({ where, security: o.security }).toEqual({ where, security: undefined });
          continue;
        }
        expect({ where, security: o.security }).toEqual({ where, security: [{ bearer: [] }] });
        expect({ where, codes: errorCodes(o, '401') }).toEqual({ where, codes: [4002, 4004] });
        expect({ where, codes: errorCodes(o, '403') }).toEqual({ where, codes: [4003] });
      }
    }
  });

  it("documents the path parameters with the seed's patterns on every operation that takes them", () => {
    const orgs: string[] = [];
    const devices: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, o] of Object.entries(ops)) {
        if (path.includes('{organizationId}')) {
          const p = param(o, 'organizationId');
          expect(p).toMatchObject({
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: ORG_PATTERN },
          });
          expect(p.schema.example).toMatch(new RegExp(ORG_PATTERN));
          orgs.push(`${method} ${path}`);
        }
        if (path.includes('{winDeviceId}')) {
          const p = param(o, 'winDeviceId');
          expect(p).toMatchObject({
            in: 'path',
            required: true,
            schema: { type: 'string', pattern: DEVICE_PATTERN },
          });
          expect(p.schema.example).toMatch(new RegExp(DEVICE_PATTERN));
          devices.push(`${method} ${path}`);
        }
        if (path.includes('{winCommandId}')) {
          expect(param(o, 'winCommandId')).toMatchObject({
            in: 'path',
            required: true,
            schema: { pattern: '^[a-fA-F0-9]{24}$' },
          });
        }
      }
    }
    const inTable = (name: string) =>
      OPERATIONS.filter(([, p]) => p.includes(name))
        .map(([m, p]) => `${m} ${p}`)
        .sort();
    expect(orgs.sort()).toEqual(inTable('{organizationId}'));
    expect(devices.sort()).toEqual(inTable('{winDeviceId}'));
  });

  it('documents the commands POST body with the seed limits and enums', () => {
    const o = op('post', COMMANDS);
    expect(o.requestBody?.required).toBe(true);
    const body = resolve(o.requestBody!.content['application/json'].schema);
    expect(body.required).toEqual(['commands']);
    expect(body.properties?.commands.type).toBe('array');
    expect(resolve(body.properties!.name)).toMatchObject({ type: 'string', maxLength: 500 });
    const item = resolve(body.properties!.commands.items!);
    expect(item.required).toEqual(['config']);
    const config = resolve(item.properties!.config);
    expect([...(config.required ?? [])].sort()).toEqual(['action', 'format', 'path']);
    expect(config.properties?.path).toMatchObject({ type: 'string', maxLength: 500 });
    expect(config.properties?.value).toMatchObject({ type: 'string', maxLength: 500 });
    expect(config.properties?.action).toMatchObject({ type: 'string', enum: ACTIONS });
    expect(config.properties?.format).toMatchObject({ type: 'string', enum: FORMATS });
  });

  it('documents the optional Idempotency-Key header once, not as a required parameter', () => {
    const headers = (op('post', COMMANDS).parameters ?? []).filter((p) => p.in === 'header');
    expect(headers).toHaveLength(1);
    expect(headers[0].name.toLowerCase()).toBe('idempotency-key');
    expect(headers[0].required).toBe(false);
  });

  it('documents the commands POST errors: 400 5091/5142, 401 4002/4004, 403 4003, 404 3001', () => {
    const o = op('post', COMMANDS);
    expect(errorCodes(o, '400')).toEqual([5091, 5142]);
    expect(errorCodes(o, '401')).toEqual([4002, 4004]);
    expect(errorCodes(o, '403')).toEqual([4003]);
    expect(errorCodes(o, '404')).toEqual([3001]);
    const error = resolve(
      resolve(o.responses['400'].content!['application/json'].schema).properties!.error,
    );
    expect(Object.keys(error.properties ?? {})).toEqual(
      expect.arrayContaining(['code', 'message', 'details']),
    );
  });

  it('has a request example that the API accepts, and a 200 schema with the fields the API returns', async () => {
    const o = op('post', COMMANDS);
    const body = resolve(o.requestBody!.content['application/json'].schema);
    const example = { commands: body.properties!.commands.example } as {
      commands: Array<{ config: unknown }>;
    };
    // One command of each kind a reader needs: a Replace with a value and a Get without one.
    expect(example.commands).toEqual([
      {
        config: {
          path: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
          action: 'Replace',
          value: '0',
          format: 'int',
        },
      },
      { config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } },
    ]);

    const res = await t.http
      .post(`/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${s.deviceId}/commands`)
      .set(bearer(s.token))
      .send(example);
    expect(res.status).toBe(200);
    expect(res.body.data.commands.map((c: { config: unknown }) => c.config)).toEqual(
      example.commands.map((c) => c.config),
    );

    const ok = resolve(o.responses['200'].content!['application/json'].schema);
    expect(ok.required).toEqual(['status', 'data']);
    const data = resolve(ok.properties!.data);
    // `action`, `atomic` and `origin` are documented as optional: only batches queued by
    // POST …/actions, queued atomic, or queued by a profile carry them.
    for (const optional of ['action', 'atomic', 'origin'])
      expect(data.required ?? []).not.toContain(optional);
    expect(
      Object.keys(data.properties ?? {})
        .filter((k) => !['action', 'atomic', 'origin'].includes(k))
        .sort(),
    ).toEqual(Object.keys(res.body.data).sort());
    const command = resolve(data.properties!.commands.items!);
    expect(Object.keys(command.properties ?? {}).sort()).toEqual(
      Object.keys(res.body.data.commands[0]).sort(),
    );
    expect(resolve(command.properties!.status).enum).toContain('Pending');
  });

  it('names the permission each authenticated operation requires, as the API answers 4003', async () => {
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, o] of Object.entries(ops)) {
        if (!o.security) continue;
        const permission = o['x-permission'];
        expect({ path, method, permission }).toEqual({
          path,
          method,
          permission: expect.stringMatching(/^[a-z.]+$/),
        });
        const message = `Permission denied: ${permission} required`;
        expect(examples(o, '403')).toEqual([[4003, message]]);
        const call = t.http[method as 'get' | 'post' | 'patch'](fill(path));
        const res = await call.set(bearer(t.token({ permissions: [] })));
        expect({ path, method, status: res.status, body: res.body }).toEqual({
          path,
          method,
          status: 403,
          body: { status: false, error: { code: 4003, message } },
        });
        checked++;
      }
    }
    expect(checked).toBe(OPERATIONS.filter(([, p]) => p.startsWith('/v1/')).length);
  });

  it('documents details only on the codes that carry them (5091, 4009, 4091)', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, o] of Object.entries(ops)) {
        for (const status of Object.keys(o.responses)) {
          const codes = errorCodes(o, status);
          if (!codes.length) continue;
          const error = resolve(
            resolve(o.responses[status].content!['application/json'].schema).properties!.error,
          );
          const where = `${method} ${path} ${status}`;
          expect({ where, details: 'details' in (error.properties ?? {}) }).toEqual({
            where,
            details: codes.includes(5091) || codes.includes(4009) || codes.includes(4091),
          });
          for (const e of Object.values(
            o.responses[status].content!['application/json'].examples ?? {},
          )) {
            if (e.value.error.code !== 5091)
              expect({ where, example: e.value.error.details }).toEqual({
                where,
                example: undefined,
              });
          }
        }
      }
    }
  });

  it.each<[string, string, string, string[]]>([
    ['post', '/v1/organizations', '404', []],
    ['get', ORG, '404', ['Organization not found']],
    ['get', ENTERPRISE, '404', ['Organization not found', 'Enterprise not found']],
    [
      'post',
      COMMANDS,
      '404',
      ['Organization not found', 'Enterprise not found', 'Device not found'],
    ],
    [
      'get',
      `${COMMANDS}/{winCommandId}`,
      '404',
      [
        'Organization not found',
        'Enterprise not found',
        'Device not found',
        'Command batch not found',
      ],
    ],
    ['post', COMMANDS, '409', ['Idempotency-Key was already used with a different request body']],
    [
      'post',
      COMMANDS,
      '400',
      [
        'Invalid data',
        'Win Device not active',
        'Win Device is unenrolled; it must enroll again before it can receive commands',
      ],
    ],
    ['post', COMMANDS, '415', ['Content-Type must be application/json']],
    [
      'post',
      '/v1/organizations',
      '409',
      ['Slug already in use', 'Could not derive a free slug; pass one explicitly'],
    ],
  ])('%s %s documents the %s texts the API answers', (method, path, status, messages) => {
    expect(examples(op(method, path), status).map(([, m]) => m)).toEqual(messages);
  });

  it('documents the texts the API really answers for 3001 and 409', async () => {
    const url = `/v1/organizations/${s.slug}/mdm/windows/enterprise/devices`;
    const missing = await t.http
      .post(`${url}/NO_SUCH_DEVICE/commands`)
      .set(bearer(s.token))
      .send({ commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }] });
    expect(examples(op('post', COMMANDS), '404')).toContainEqual([
      3001,
      missing.body.error.message,
    ]);
    const taken = await t.http
      .post('/v1/organizations')
      .set(bearer(s.token))
      .send({ name: 'Again', slug: s.slug });
    expect(taken.status).toBe(409);
    expect(examples(op('post', '/v1/organizations'), '409')).toContainEqual([
      4009,
      taken.body.error.message,
    ]);
  });

  it('gives the admin API its server and the device protocols theirs, apart', () => {
    expect(doc.servers).toEqual([
      { url: '/', description: 'Admin API (the server serving this document: HOST:PORT)' },
    ]);
    const device = Object.entries(doc.paths).filter(([p]) =>
      /^\/(ManagementServer|EnrollmentServer)\//.test(p),
    );
    expect(device.map(([p]) => p).sort()).toEqual([
      '/EnrollmentServer/Discovery.svc',
      '/EnrollmentServer/Enrollment.svc',
      '/EnrollmentServer/Policy.svc',
      '/ManagementServer/MDM.svc',
    ]);
    for (const [, ops] of device) {
      for (const o of Object.values(ops)) {
        expect(o.tags).toEqual(['Device protocols']);
        expect(o.servers).toEqual([
          {
            url: DEVICE_BASE_URL,
            description: 'Device listener (DEVICE_PORT, HTTPS; PUBLIC_BASE_URL)',
          },
        ]);
      }
    }
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (device.some(([p]) => p === path)) continue;
      for (const o of Object.values(ops)) expect(o.servers).toBeUndefined();
    }
    expect(doc.tags?.find((x) => x.name === 'Device protocols')?.description).toContain(
      `device HTTPS listener (${DEVICE_BASE_URL})`,
    );
  });

  it('gives no SyncML example (a working one needs a device certificate)', () => {
    const body = op('post', '/ManagementServer/MDM.svc').requestBody!.content[
      'application/vnd.syncml.dm+xml'
    ] as { schema: Schema; example?: unknown; examples?: unknown };
    expect(body).toEqual({ schema: { type: 'string', format: 'xml' } });
  });

  it('shows AllowCamera as Replace/int and statusCode as an integer', () => {
    const config = doc.components.schemas.CommandConfigResponseDto;
    expect(config.properties?.path.example).toBe(
      './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
    );
    expect(config.properties?.action.example).toBe('Replace');
    expect(config.properties?.format.example).toBe('int');
    expect(config.properties?.value.example).toBe('0');
    expect(doc.components.schemas.CommandResponseDto.properties?.statusCode).toMatchObject({
      type: 'integer',
      example: 200,
    });
  });

  // The documented pattern and the validator must agree: a value the pattern refuses is 400 5091
  // naming the parameter; one it accepts passes validation (and is then simply not found).
  it.each([
    ['organizationId', 'ab'],
    ['organizationId', 'a_b_c'],
    ['organizationId', 'a.bc'],
    ['organizationId', 'no-such-org'],
    ['organizationId', 'abc'],
    ['organizationId', 'ABCDEF0123456789abcdef01'],
    ['winDeviceId', 'a-b'],
    ['winDeviceId', 'a.b'],
    ['winDeviceId', 'x'],
    ['winDeviceId', 'NO_SUCH_DEVICE_1'],
    ['winDeviceId', 'abcdef0123456789abcdef01'],
  ])('the documented %s pattern agrees with the API for "%s"', async (name, value) => {
    const pattern = param(op('post', COMMANDS), name).schema.pattern!;
    const org = name === 'organizationId' ? value : s.slug;
    const device = name === 'winDeviceId' ? value : s.deviceId;
    const res = await t.http
      .post(`/v1/organizations/${org}/mdm/windows/enterprise/devices/${device}/commands`)
      .set(bearer(s.token))
      .send({ commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }] });
    const refused =
      res.status === 400 &&
      res.body.error?.code === 5091 &&
      (res.body.error.details ?? []).some((d: { field: string }) => d.field === name);
    expect({ value, refusedByApi: refused }).toEqual({
      value,
      refusedByApi: !new RegExp(pattern).test(value),
    });
    if (!refused) expect(res.body.error?.code).toBe(3001);
  });
});
