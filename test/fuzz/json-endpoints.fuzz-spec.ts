import fc from 'fast-check';
import { Types } from 'mongoose';
import { bearer, startTestApp, TestApp } from '../support/app';
import { commandsUrl, seedDevice, Seeded, uniqueDeviceId } from '../support/seed';

/**
 * Hostile JSON bodies, over HTTP, against the real app and store: never a 5xx, and a refused
 * request changes nothing. Reproduce a failure with the seed and path fast-check prints
 * (FUZZ_SEED=<seed>); FUZZ_RUNS sets the runs per endpoint and generator family.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_911);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const MAX_DEPTH = 16;
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Method = 'post' | 'patch';

interface Endpoint {
  name: string;
  method: Method;
  url: () => string;
  /** A body the endpoint accepts: the template wrong types and prototype keys are put into. */
  valid: () => { [key: string]: Json };
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Every place in a body, as a path of keys and indexes (the root excluded). */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

function replaceAt(body: Json, path: (string | number)[], value: Json): Json {
  const copy = structuredClone(body);
  let node = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  node[path[path.length - 1]] = value;
  return copy;
}

/** Puts `key` into the object at `path` (or the root) as raw text: JSON.stringify would drop __proto__. */
function withKeyAt(body: Json, path: (string | number)[], key: string, value: Json): string {
  const marker = '"__fuzz_marker__":0';
  const marked = structuredClone(body) as Record<string | number, Json>;
  let node = marked;
  for (const k of path) node = node[k] as Record<string | number, Json>;
  (node as Record<string, Json>).__fuzz_marker__ = 0;
  return JSON.stringify(marked).replace(marker, `${JSON.stringify(key)}:${JSON.stringify(value)}`);
}

const anyJsonValue: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;

/** A value whose JSON type differs from `original`'s. */
const wrongTypeFor = (original: Json): fc.Arbitrary<Json> =>
  fc
    .oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ maxLength: 20 }),
      fc.array(anyJsonValue, { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 8 }), anyJsonValue, { maxKeys: 3 }),
      fc.constant([[]] as Json),
    )
    .filter((v) => typeOf(v) !== typeOf(original));

const nested = (depth: number, kinds: boolean[]) =>
  kinds
    .slice(0, depth)
    .map((obj) => (obj ? '{"a":' : '['))
    .join('') +
  '0' +
  kinds
    .slice(0, depth)
    .reverse()
    .map((obj) => (obj ? '}' : ']'))
    .join('');

describe('fuzz: hostile JSON bodies on every JSON endpoint', () => {
  let t: TestApp;
  let s: Seeded;
  let batchId: string;

  beforeAll(async () => {
    t = await startTestApp(__filename, { JSON_MAX_DEPTH: String(MAX_DEPTH) });
    s = await seedDevice(t);
    const batch = await t.http
      .post(commandsUrl(s))
      .set(bearer(s.token))
      .send({ commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }] });
    expect(batch.status).toBe(200);
    batchId = batch.body.data.id;
  });
  afterAll(() => t.close());

  const enterpriseUrl = () => `/v1/organizations/${s.slug}/mdm/windows/enterprise`;
  const endpoints: Endpoint[] = [
    {
      name: 'POST commands',
      method: 'post',
      url: () => commandsUrl(s),
      valid: () => ({
        commands: [
          { config: { path: './Vendor/MSFT/A', action: 'Replace', format: 'int', value: '1' } },
        ],
        name: 'fuzz',
      }),
    },
    {
      name: 'POST cancel',
      method: 'post',
      url: () => `${commandsUrl(s)}${batchId}/cancel`,
      valid: () => ({ cmdIds: ['no-such-command'] }),
    },
    {
      name: 'POST organizations',
      method: 'post',
      url: () => '/v1/organizations',
      valid: () => ({ name: 'Fuzz Org', slug: `fuzz-${new Types.ObjectId().toHexString()}` }),
    },
    {
      name: 'POST devices',
      method: 'post',
      url: () => `${enterpriseUrl()}/devices`,
      valid: () => ({ deviceId: uniqueDeviceId(), name: 'Fuzz PC' }),
    },
    {
      name: 'PATCH device',
      method: 'patch',
      url: () => `${enterpriseUrl()}/devices/${s.deviceId}`,
      valid: () => ({ status: 'active', name: 'Test PC' }),
    },
    {
      name: 'PATCH enterprise',
      method: 'patch',
      url: enterpriseUrl,
      valid: () => ({ name: 'Fuzz fleet', domains: [`${s.slug}.fuzz.test`] }),
    },
  ];

  /** Everything a refused request must leave as it was. */
  const state = async () => {
    const count = (c: string) => t.db.collection(c).countDocuments({});
    const winDeviceId = new Types.ObjectId(s.winDeviceId);
    const [organizations, enterprises, devices, batches, commands] = await Promise.all(
      [
        'organizations',
        'win_enterprises',
        'win_devices',
        'win_command_batches',
        'win_commands',
      ].map(count),
    );
    return {
      counts: { organizations, enterprises, devices, batches, commands },
      device: await t.db.collection('win_devices').findOne({ _id: winDeviceId }),
      enterprise: await t.db
        .collection('win_enterprises')
        .findOne({ _id: new Types.ObjectId(s.enterpriseId) }),
      queued: await t.db
        .collection('win_commands')
        .find({ winDeviceId })
        .sort({ _id: 1 })
        .toArray(),
    };
  };

  const send = (e: Endpoint, text: string) =>
    t.http[e.method](e.url())
      .set(bearer(s.token))
      .set('Content-Type', 'application/json')
      .send(text);

  /** Never a 5xx; a refusal changes nothing; `expect4xx` bodies must be refused (400 5091). */
  async function check(e: Endpoint, text: string, expect400: boolean) {
    const before = await state();
    const res = await send(e, text);
    expect(res.status).toBeLessThan(500);
    if (expect400) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(5091);
    }
    if (res.status >= 400) expect(await state()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    return res;
  }

  const run = <T>(property: fc.IAsyncPropertyWithHooks<[T]>) =>
    fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });

  describe.each(endpoints.map((e) => [e.name, e] as const))('%s', (_name, e) => {
    it('random JSON texts and values: never a 5xx', async () => {
      const texts = fc.oneof(
        fc.json({ maxDepth: 6 }),
        fc
          .anything({ maxDepth: 4, withNullPrototype: true })
          .map((v) => JSON.stringify(v) ?? 'null'),
        fc
          .dictionary(fc.string({ unit: 'binary', maxLength: 12 }), anyJsonValue)
          .map((v) => JSON.stringify(v)),
      );
      await run(fc.asyncProperty(texts, async (text) => void (await check(e, text, false))));
    });

    it('a wrong type at any field of a valid body → 400 5091', async () => {
      const cases = fc
        .constant(e.valid())
        .chain((body) =>
          fc
            .constantFrom(...pathsOf(body))
            .chain((path) =>
              wrongTypeFor(path.reduce<Json>((n, k) => (n as Record<string, Json>)[k], body)).map(
                (v) => JSON.stringify(replaceAt(body, path, v)),
              ),
            ),
        );
      await run(fc.asyncProperty(cases, async (text) => void (await check(e, text, true))));
    });

    it('prototype keys anywhere in a valid body → 400 5091 naming them, nothing polluted', async () => {
      const cases = fc.constant(e.valid()).chain((body) => {
        const objects = [[], ...pathsOf(body)].filter((p) => {
          const node = p.reduce<Json>((n, k) => (n as Record<string, Json>)[k], body);
          return typeOf(node) === 'object';
        });
        return fc
          .tuple(
            fc.constantFrom(...objects),
            fc.constantFrom(...PROTO_KEYS),
            fc.constantFrom<Json>({ polluted: true }, { prototype: { polluted: true } }, 'x', 1),
          )
          .map(([path, key, value]) => ({ text: withKeyAt(body, path, key, value), key }));
      });
      await run(
        fc.asyncProperty(cases, async ({ text, key }) => {
          const res = await check(e, text, true);
          const fields = (res.body.error.details as { field: string }[]).map((d) => d.field);
          expect(fields.some((f) => f === key || f.endsWith(`.${key}`))).toBe(true);
        }),
      );
    });

    it('deep nesting, huge strings and unicode within the limits: never a 5xx', async () => {
      const key = Object.keys(e.valid())[0];
      const cases = fc.oneof(
        fc
          .tuple(
            fc.integer({ min: 1, max: 3 * MAX_DEPTH }),
            fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
          )
          .map(([depth, kinds]) => ({
            text: `{"${key}":${nested(Math.min(depth, 64), kinds)}}`,
            tooDeep: Math.min(depth, 64) + 1 > MAX_DEPTH,
          })),
        fc
          .tuple(
            fc.integer({ min: 1_000, max: 300_000 }),
            fc.constantFrom('x', 'é', '😀', '\u0000', '"', '\\'),
          )
          .map(([n, ch]) => ({
            text: JSON.stringify({ ...e.valid(), [key]: ch.repeat(n) }),
            tooDeep: false,
          })),
        fc
          .string({ unit: 'binary', maxLength: 200 })
          .map((str) => ({ text: JSON.stringify({ ...e.valid(), [key]: str }), tooDeep: false })),
      );
      await run(
        fc.asyncProperty(cases, async ({ text, tooDeep }) => {
          const res = await check(e, text, tooDeep);
          if (tooDeep) {
            expect(res.body.error.details).toEqual([
              { field: 'request', message: `JSON nested deeper than ${MAX_DEPTH} levels` },
            ]);
          }
        }),
      );
    });
  });
});
