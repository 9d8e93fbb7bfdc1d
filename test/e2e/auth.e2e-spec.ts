import { sign } from 'jsonwebtoken';
import { Types } from 'mongoose';
import type { Response } from 'supertest';
import { ALL_PERMISSIONS } from '../../src/auth/permissions';
import { createToken, parseTokenArgs, TokenRequest } from '../../tools/token';
import { bearer, startTestApp, TEST_JWT_SECRET, TestApp } from '../support/app';
import { createProfile, profileBody, profilesUrl } from '../support/profiles';
import { commandsUrl, seedDevice, Seeded, uniqueDeviceId, uniqueSlug } from '../support/seed';
import { expectDenied, expectError, expectNotFound, expectUnenrolled } from './expect-error';

const GET_SWV = {
  commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }],
};
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const CLAIMS = { sub: 'admin-1', orgs: ['*'], permissions: ['*'] };

describe('auth: 401, 403, tenant 404, inactive device', () => {
  let t: TestApp;
  let a: Seeded;
  let b: Seeded;
  let batchA: { id: string; cmdIds: string[] };

  const deviceUrl = (s: { slug: string; deviceId: string }) =>
    `/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${s.deviceId}`;
  const storedCommands = (s: Seeded) =>
    t.db
      .collection('win_commands')
      .countDocuments({ winDeviceId: new Types.ObjectId(s.winDeviceId) });

  beforeAll(async () => {
    t = await startTestApp(__filename);
    a = await seedDevice(t);
    b = await seedDevice(t);
    const res = await t.http.post(commandsUrl(a)).set(bearer(a.token)).send(GET_SWV);
    expect(res.status).toBe(200);
    batchA = {
      id: res.body.data.id,
      cmdIds: res.body.data.commands.map((c: { cmdId: string }) => c.cmdId),
    };
  });
  afterAll(() => t.close());

  describe('401 4002 No auth token', () => {
    it('without an Authorization header', async () => {
      expectError(await t.http.post(commandsUrl(a)).send(GET_SWV), 4002);
      expectError(await t.http.get(`/v1/organizations/${a.slug}`), 4002);
    });

    it('with a Basic Authorization header', async () => {
      const basic = `Basic ${Buffer.from('admin:secret').toString('base64')}`;
      expectError(
        await t.http.post(commandsUrl(a)).set('Authorization', basic).send(GET_SWV),
        4002,
      );
    });

    it('with a valid token outside the Authorization header', async () => {
      const res = await t.http
        .post(`${commandsUrl(a)}?access_token=${a.token}`)
        .set('X-Token', a.token)
        .send(GET_SWV);
      expectError(res, 4002);
    });

    it('before validating the body, and nothing is stored', async () => {
      const before = await storedCommands(a);
      expectError(await t.http.post(commandsUrl(a)).send({ commands: [] }), 4002);
      expect(await storedCommands(a)).toBe(before);
    });
  });

  describe('401 4004 Invalid Token', () => {
    const hs256 = (payload: object, secret = TEST_JWT_SECRET) =>
      sign(payload, secret, { algorithm: 'HS256' });
    const valid = () => ({ ...CLAIMS, exp: now() + 600 });
    const cases: [string, () => string][] = [
      ['a malformed token', () => 'not-a-jwt'],
      ['three garbage segments', () => 'abc.def.ghi'],
      ['a token with a truncated signature', () => t.token().slice(0, -4)],
      [
        'a token whose payload was altered',
        () => {
          const [h, , s] = t.token({ permissions: ['mdm.windows.command.get'] }).split('.');
          return `${h}.${b64url(valid())}.${s}`;
        },
      ],
      ['a token signed with another key', () => hs256(valid(), 'another-secret-0123456789abcdef')],
      ['an expired token', () => hs256({ ...CLAIMS, iat: now() - 7200, exp: now() - 60 })],
      ['a token that is not valid yet (nbf)', () => hs256({ ...valid(), nbf: now() + 3600 })],
      [
        'an alg:none token without signature',
        () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(valid())}.`,
      ],
      [
        'an alg:none token with a signature',
        () => {
          const s = t.token().split('.')[2];
          return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(valid())}.${s}`;
        },
      ],
      [
        'an HS512 token with the right secret',
        () => sign(valid(), TEST_JWT_SECRET, { algorithm: 'HS512' }),
      ],
      ['a token without exp', () => hs256(CLAIMS)],
      ['a token without sub', () => hs256({ orgs: ['*'], permissions: ['*'], exp: now() + 600 })],
      ['a token without orgs', () => hs256({ sub: 'x', permissions: ['*'], exp: now() + 600 })],
      ['a token without permissions', () => hs256({ sub: 'x', orgs: ['*'], exp: now() + 600 })],
      [
        'a token whose permissions are not strings',
        () => hs256({ ...valid(), permissions: [1, 2] }),
      ],
    ];

    it.each(cases)('for %s', async (_label, token) => {
      const before = await storedCommands(a);
      expectError(await t.http.post(commandsUrl(a)).set(bearer(token())).send(GET_SWV), 4004);
      expectError(await t.http.get(`/v1/organizations/${a.slug}`).set(bearer(token())), 4004);
      expect(await storedCommands(a)).toBe(before);
    });

    it('for a one-character bearer value', async () => {
      const res = await t.http.get(`/v1/organizations/${a.slug}`).set('Authorization', 'Bearer x');
      expectError(res, 4004);
    });

    it('a Bearer scheme with no token at all counts as no token (4002)', async () => {
      expectError(
        await t.http.get(`/v1/organizations/${a.slug}`).set('Authorization', 'Bearer'),
        4002,
      );
    });

    describe('with JWT_ISSUER and JWT_AUDIENCE configured', () => {
      let t2: TestApp;
      const ISS = 'https://idp.mullion.test/';
      const AUD = 'mullion-api';
      beforeAll(async () => {
        t2 = await startTestApp(__filename, { JWT_ISSUER: ISS, JWT_AUDIENCE: AUD });
      });
      afterAll(() => t2.close());

      const createOrg = (token: string) =>
        t2.http
          .post('/v1/organizations')
          .set(bearer(token))
          .send({ name: 'Iss Org', slug: uniqueSlug() });

      it('accepts the right issuer and audience', async () => {
        const res = await createOrg(t2.token({ issuer: ISS, audience: AUD }));
        expect(res.status).toBe(200);
        const read = await t2.http
          .get(`/v1/organizations/${res.body.data.slug}`)
          .set(bearer(t2.token({ issuer: ISS, audience: AUD })));
        expect(read.status).toBe(200);
        expect(read.body.data.id).toBe(res.body.data.id);
      });

      it('leaves the other app in this process with its own settings', async () => {
        // passport keeps strategies in a process-wide registry: each app must use its own.
        expect((await t.http.get(`/v1/organizations/${a.slug}`).set(bearer(a.token))).status).toBe(
          200,
        );
        expectError(await t2.http.get(`/v1/organizations/${a.slug}`).set(bearer(a.token)), 4004);
      });

      it.each([
        ['no issuer', { audience: AUD }],
        ['a wrong issuer', { issuer: 'https://evil.test/', audience: AUD }],
        ['no audience', { issuer: ISS }],
        ['a wrong audience', { issuer: ISS, audience: 'other-api' }],
      ])('refuses %s', async (_label, opts) => {
        const before = await t2.db.collection('organizations').countDocuments();
        expectError(await createOrg(t2.token(opts)), 4004);
        expect(await t2.db.collection('organizations').countDocuments()).toBe(before);
      });
    });
  });

  describe('403 4003 Permission denied', () => {
    // The exact permission names are the API's contract: spelled out, not imported.
    const NAMES = [
      'organization.create',
      'organization.get',
      'mdm.windows.enterprise.create',
      'mdm.windows.enterprise.get',
      'mdm.windows.enterprise.update',
      'mdm.windows.enrollment.create',
      'mdm.windows.device.create',
      'mdm.windows.device.list',
      'mdm.windows.device.get',
      'mdm.windows.device.update',
      'mdm.windows.device.action',
      'mdm.windows.command.create',
      'mdm.windows.command.list',
      'mdm.windows.command.get',
      'mdm.windows.command.cancel',
      'mdm.windows.profile.create',
      'mdm.windows.profile.list',
      'mdm.windows.profile.get',
      'mdm.windows.profile.update',
      'mdm.windows.profile.delete',
      'audit.list',
      'webhook.create',
      'webhook.list',
      'webhook.get',
      'webhook.update',
      'webhook.delete',
    ];

    it('the permission list matches the code', () => {
      expect([...ALL_PERMISSIONS].sort()).toEqual([...NAMES].sort());
    });

    type Call = (token: string) => Promise<Response>;
    /** What the call may change, read before and after a refused call. */
    type Snapshot = () => Promise<unknown>;
    const count = (collection: string) => () => t.db.collection(collection).countDocuments();
    const nothing: Snapshot = async () => null;
    const deviceDoc = () =>
      t.db.collection('win_devices').findOne({ _id: new Types.ObjectId(a.winDeviceId) });
    const batchCommands = () =>
      t.db
        .collection('win_commands')
        .find({ batchId: new Types.ObjectId(batchA.id) })
        .toArray();
    const admin = () => a.token;
    let profileId: string | null = null;
    const profileA = async () => (profileId ??= (await createProfile(t, a)).id);
    const endpoints: [string, string, Call, Snapshot][] = [
      [
        'POST /v1/organizations',
        'organization.create',
        (tk) =>
          t.http
            .post('/v1/organizations')
            .set(bearer(tk))
            .send({ name: 'Perm Org', slug: uniqueSlug('perm') }),
        count('organizations'),
      ],
      [
        'GET /v1/organizations/:id',
        'organization.get',
        (tk) => t.http.get(`/v1/organizations/${a.orgId}`).set(bearer(tk)),
        nothing,
      ],
      [
        'POST …/enterprise',
        'mdm.windows.enterprise.create',
        async (tk) => {
          const slug = uniqueSlug('ent');
          const org = await t.http
            .post('/v1/organizations')
            .set(bearer(admin()))
            .send({ name: 'Ent Org', slug });
          expect(org.status).toBe(200);
          return t.http
            .post(`/v1/organizations/${slug}/mdm/windows/enterprise`)
            .set(bearer(tk))
            .send({});
        },
        count('win_enterprises'),
      ],
      [
        'GET …/enterprise',
        'mdm.windows.enterprise.get',
        (tk) => t.http.get(`/v1/organizations/${a.slug}/mdm/windows/enterprise`).set(bearer(tk)),
        nothing,
      ],
      [
        'POST …/devices',
        'mdm.windows.device.create',
        (tk) =>
          t.http
            .post(`/v1/organizations/${a.slug}/mdm/windows/enterprise/devices`)
            .set(bearer(tk))
            .send({ deviceId: uniqueDeviceId() }),
        count('win_devices'),
      ],
      [
        'GET …/devices',
        'mdm.windows.device.list',
        (tk) =>
          t.http.get(`/v1/organizations/${a.slug}/mdm/windows/enterprise/devices`).set(bearer(tk)),
        nothing,
      ],
      [
        'GET …/devices/:winDeviceId',
        'mdm.windows.device.get',
        (tk) => t.http.get(deviceUrl(a)).set(bearer(tk)),
        nothing,
      ],
      [
        'PATCH …/devices/:winDeviceId',
        'mdm.windows.device.update',
        (tk) => t.http.patch(deviceUrl(a)).set(bearer(tk)).send({ name: 'Renamed PC' }),
        deviceDoc,
      ],
      [
        'POST …/commands/',
        'mdm.windows.command.create',
        (tk) => t.http.post(commandsUrl(a)).set(bearer(tk)).send(GET_SWV),
        count('win_commands'),
      ],
      [
        'POST …/commands',
        'mdm.windows.command.create',
        (tk) => t.http.post(commandsUrl(a, false)).set(bearer(tk)).send(GET_SWV),
        count('win_commands'),
      ],
      [
        'POST …/actions',
        'mdm.windows.device.action',
        (tk) =>
          t.http
            .post(`${deviceUrl(a)}/actions`)
            .set(bearer(tk))
            .send({ action: 'sync' }),
        count('win_commands'),
      ],
      [
        'GET …/commands/',
        'mdm.windows.command.list',
        (tk) => t.http.get(commandsUrl(a)).set(bearer(tk)),
        nothing,
      ],
      [
        'GET …/commands/:winCommandId',
        'mdm.windows.command.get',
        (tk) => t.http.get(`${commandsUrl(a)}${batchA.id}`).set(bearer(tk)),
        nothing,
      ],
      [
        'GET …/commands/:winCommandId/actions',
        'mdm.windows.command.get',
        (tk) => t.http.get(`${commandsUrl(a)}${batchA.id}/actions`).set(bearer(tk)),
        nothing,
      ],
      [
        'POST …/commands/:winCommandId/cancel',
        'mdm.windows.command.cancel',
        (tk) =>
          t.http
            .post(`${commandsUrl(a)}${batchA.id}/cancel`)
            .set(bearer(tk))
            .send({ cmdIds: batchA.cmdIds }),
        batchCommands,
      ],
      [
        'GET …/audit',
        'audit.list',
        (tk) => t.http.get(`/v1/organizations/${a.slug}/audit`).set(bearer(tk)),
        nothing,
      ],
      [
        'POST …/profiles',
        'mdm.windows.profile.create',
        (tk) => t.http.post(profilesUrl(a)).set(bearer(tk)).send(profileBody()),
        count('win_profiles'),
      ],
      [
        'GET …/profiles',
        'mdm.windows.profile.list',
        (tk) => t.http.get(profilesUrl(a)).set(bearer(tk)),
        nothing,
      ],
      [
        'GET …/profiles/:profileId',
        'mdm.windows.profile.get',
        async (tk) => t.http.get(`${profilesUrl(a)}/${await profileA()}`).set(bearer(tk)),
        nothing,
      ],
      [
        'PATCH …/profiles/:profileId',
        'mdm.windows.profile.update',
        async (tk) =>
          t.http
            .patch(`${profilesUrl(a)}/${await profileA()}`)
            .set(bearer(tk))
            .send({ description: 'changed' }),
        async () =>
          (
            await t.db
              .collection('win_profiles')
              .findOne({ _id: new Types.ObjectId(await profileA()) })
          )?.revision,
      ],
      [
        'GET …/profiles/:profileId/status',
        'mdm.windows.profile.get',
        async (tk) => t.http.get(`${profilesUrl(a)}/${await profileA()}/status`).set(bearer(tk)),
        nothing,
      ],
      [
        'GET …/devices/:winDeviceId/profiles',
        'mdm.windows.device.get',
        (tk) => t.http.get(`${deviceUrl(a)}/profiles`).set(bearer(tk)),
        nothing,
      ],
      [
        'DELETE …/profiles/:profileId',
        'mdm.windows.profile.delete',
        async (tk) => {
          const p = await createProfile(t, a);
          return t.http.delete(`${profilesUrl(a)}/${p.id}`).set(bearer(tk));
        },
        () => t.db.collection('win_profiles').countDocuments({ deletedAt: { $ne: null } }),
      ],
    ];

    it.each(endpoints)(
      '%s needs %s: every other permission is not enough',
      async (_l, permission, call, snapshot) => {
        const before = await snapshot();
        const others = NAMES.filter((p) => p !== permission);
        expectDenied(await call(t.token({ permissions: others })), permission);
        expectDenied(await call(t.token({ permissions: [] })), permission);
        expect(await snapshot()).toEqual(before);
      },
    );

    it.each(endpoints)(
      '%s: holding exactly %s is enough',
      async (_l, permission, call, snapshot) => {
        const before = await snapshot();
        const res = await call(t.token({ permissions: [permission] }));
        expect(res.status).toBe(200);
        expect(res.body.status).toBe(true);
        // The refused calls above changed nothing; this one does what the endpoint says.
        if (snapshot !== nothing) expect(await snapshot()).not.toEqual(before);
      },
    );

    it('a family wildcard grants its family only', async () => {
      const tk = t.token({ permissions: ['mdm.windows.command.*'] });
      expect((await t.http.get(commandsUrl(a)).set(bearer(tk))).status).toBe(200);
      expectDenied(await t.http.get(deviceUrl(a)).set(bearer(tk)), 'mdm.windows.device.get');
      // A wildcard must end on a dot boundary: "mdm.windows.command" does not grant ".commandX".
      const partial = t.token({ permissions: ['mdm.windows.comm*'] });
      expectDenied(
        await t.http.get(commandsUrl(a)).set(bearer(partial)),
        'mdm.windows.command.list',
      );
    });

    it('permissions are case-sensitive', async () => {
      const tk = t.token({ permissions: ['MDM.WINDOWS.COMMAND.LIST'] });
      expectDenied(await t.http.get(commandsUrl(a)).set(bearer(tk)), 'mdm.windows.command.list');
    });
  });

  describe('404 3001 Entity not found', () => {
    const missingId = () => new Types.ObjectId().toHexString();

    it('for a missing organization, by id and by slug', async () => {
      for (const org of [missingId(), 'no-such-org-here']) {
        expectNotFound(
          await t.http.get(`/v1/organizations/${org}`).set(bearer(a.token)),
          'Organization',
        );
        expectNotFound(
          await t.http.get(`/v1/organizations/${org}/mdm/windows/enterprise`).set(bearer(a.token)),
          'Organization',
        );
        expectNotFound(
          await t.http
            .post(commandsUrl({ slug: org, deviceId: a.deviceId }))
            .set(bearer(a.token))
            .send(GET_SWV),
          'Organization',
        );
      }
    });

    it('for a missing device, by Windows device id and by 24-hex id', async () => {
      for (const deviceId of [uniqueDeviceId(), missingId()]) {
        const url = commandsUrl({ slug: a.slug, deviceId });
        expectNotFound(await t.http.post(url).set(bearer(a.token)).send(GET_SWV), 'Device');
        expectNotFound(
          await t.http.get(deviceUrl({ slug: a.slug, deviceId })).set(bearer(a.token)),
          'Device',
        );
      }
    });

    it("for another organization's device addressed under the caller's organization", async () => {
      const before = await storedCommands(b);
      for (const deviceId of [b.deviceId, b.winDeviceId]) {
        expectNotFound(
          await t.http
            .post(commandsUrl({ slug: a.slug, deviceId }))
            .set(bearer(a.token))
            .send(GET_SWV),
          'Device',
        );
        expectNotFound(
          await t.http.get(deviceUrl({ slug: a.slug, deviceId })).set(bearer(a.token)),
          'Device',
        );
        expectNotFound(
          await t.http.get(commandsUrl({ slug: a.slug, deviceId })).set(bearer(a.token)),
          'Device',
        );
        const patch = await t.http
          .patch(deviceUrl({ slug: a.slug, deviceId }))
          .set(bearer(a.token))
          .send({ status: 'inactive' });
        expectNotFound(patch, 'Device');
      }
      expect(await storedCommands(b)).toBe(before);
      const stored = await t.db
        .collection('win_devices')
        .findOne({ _id: new Types.ObjectId(b.winDeviceId) });
      expect(stored?.status).toBe('active');
    });

    it("for another device's batch in the same organization", async () => {
      const other = await t.http
        .post(`/v1/organizations/${a.slug}/mdm/windows/enterprise/devices`)
        .set(bearer(a.token))
        .send({ deviceId: uniqueDeviceId() });
      expect(other.status).toBe(200);
      const url = `${commandsUrl({ slug: a.slug, deviceId: other.body.data.deviceId })}${batchA.id}`;
      expectNotFound(await t.http.get(url).set(bearer(a.token)), 'Command batch');
      expectNotFound(await t.http.get(`${url}/actions`).set(bearer(a.token)), 'Command batch');
      expectNotFound(
        await t.http.post(`${url}/cancel`).set(bearer(a.token)).send({}),
        'Command batch',
      );
    });

    describe('for a token scoped to another organization', () => {
      const onlyB = () => t.token({ organizations: [b.orgId] });

      it.each([
        ['by slug', () => a.slug],
        ['by id', () => a.orgId],
      ])("hides the other organization's data (%s)", async (_l, org) => {
        const tk = onlyB();
        const s = { slug: org(), deviceId: a.deviceId };
        const fresh = await t.http.post(commandsUrl(a)).set(bearer(a.token)).send(GET_SWV);
        expect(fresh.status).toBe(200);
        const before = await storedCommands(a);
        expectNotFound(
          await t.http.get(`/v1/organizations/${s.slug}`).set(bearer(tk)),
          'Organization',
        );
        expectNotFound(
          await t.http.get(`/v1/organizations/${s.slug}/mdm/windows/enterprise`).set(bearer(tk)),
          'Organization',
        );
        // Would be 409 for a caller of this organization: the enterprise exists.
        expectNotFound(
          await t.http
            .post(`/v1/organizations/${s.slug}/mdm/windows/enterprise`)
            .set(bearer(tk))
            .send({}),
          'Organization',
        );
        expectNotFound(
          await t.http
            .get(`/v1/organizations/${s.slug}/mdm/windows/enterprise/devices`)
            .set(bearer(tk)),
          'Organization',
        );
        expectNotFound(await t.http.get(deviceUrl(s)).set(bearer(tk)), 'Organization');
        expectNotFound(
          await t.http.post(commandsUrl(s)).set(bearer(tk)).send(GET_SWV),
          'Organization',
        );
        expectNotFound(
          await t.http.get(`${commandsUrl(s)}${batchA.id}`).set(bearer(tk)),
          'Organization',
        );
        expectNotFound(
          await t.http
            .post(`${commandsUrl(s)}${fresh.body.data.id}/cancel`)
            .set(bearer(tk))
            .send({}),
          'Organization',
        );
        expect(await storedCommands(a)).toBe(before);
        const cmds = await t.db
          .collection('win_commands')
          .find({ batchId: new Types.ObjectId(fresh.body.data.id) })
          .toArray();
        expect(cmds.map((c) => [c.status, c.canceledAt])).toEqual([['Pending', null]]);
      });

      it.each([
        ['id', 'id'],
        ['id', 'slug'],
        ['slug', 'id'],
        ['slug', 'slug'],
      ])(
        'works when the claim names the organization by %s and the path by %s',
        async (claim, path) => {
          const tk = t.token({ organizations: [claim === 'id' ? b.orgId : b.slug] });
          const org = path === 'id' ? b.orgId : b.slug;
          const read = await t.http.get(`/v1/organizations/${org}`).set(bearer(tk));
          expect(read.status).toBe(200);
          expect(read.body.data).toMatchObject({ id: b.orgId, slug: b.slug });
          const res = await t.http
            .post(commandsUrl({ slug: org, deviceId: b.deviceId }))
            .set(bearer(tk))
            .send(GET_SWV);
          expect(res.status).toBe(200);
          expect(res.body.data).toMatchObject({
            organizationId: b.orgId,
            winDeviceId: b.winDeviceId,
          });
        },
      );

      it('a token for several organizations acts on each of them', async () => {
        const tk = t.token({ organizations: [a.slug, b.orgId] });
        expect((await t.http.get(deviceUrl(a)).set(bearer(tk))).status).toBe(200);
        expect((await t.http.get(deviceUrl(b)).set(bearer(tk))).status).toBe(200);
        const c = await seedDevice(t);
        expectNotFound(await t.http.get(deviceUrl(c)).set(bearer(tk)), 'Organization');
      });
    });
  });

  describe('400 5142 Win Device not active', () => {
    let d: Seeded;
    beforeAll(async () => {
      d = await seedDevice(t);
    });
    const setStatus = (status: string) =>
      t.http.patch(deviceUrl(d)).set(bearer(d.token)).send({ status });
    const storedStatus = async () =>
      (await t.db.collection('win_devices').findOne({ _id: new Types.ObjectId(d.winDeviceId) }))
        ?.status;

    it('refuses commands for an inactive device and stores nothing; reactivating works', async () => {
      const off = await setStatus('inactive');
      expect(off.status).toBe(200);
      expect(off.body.data).toMatchObject({ id: d.winDeviceId, status: 'inactive' });
      expect(await storedStatus()).toBe('inactive');

      const before = await storedCommands(d);
      const batchesBefore = await t.db.collection('win_command_batches').countDocuments();
      expectError(await t.http.post(commandsUrl(d)).set(bearer(d.token)).send(GET_SWV), 5142);
      expectError(
        await t.http
          .post(commandsUrl({ slug: d.orgId, deviceId: d.winDeviceId }))
          .set(bearer(d.token))
          .send(GET_SWV),
        5142,
      );
      expect(await storedCommands(d)).toBe(before);
      expect(await t.db.collection('win_command_batches').countDocuments()).toBe(batchesBefore);

      // Reading an inactive device and its commands still works.
      const read = await t.http.get(deviceUrl(d)).set(bearer(d.token));
      expect(read.status).toBe(200);
      expect(read.body.data.status).toBe('inactive');
      expect((await t.http.get(commandsUrl(d)).set(bearer(d.token))).status).toBe(200);

      const on = await setStatus('active');
      expect(on.status).toBe(200);
      expect(on.body.data.status).toBe('active');
      expect(await storedStatus()).toBe('active');
      const res = await t.http.post(commandsUrl(d)).set(bearer(d.token)).send(GET_SWV);
      expect(res.status).toBe(200);
      expect(await storedCommands(d)).toBe(before + 1);
    });

    it('refuses commands for an unenrolled device, which PATCH cannot resurrect', async () => {
      const e = await seedDevice(t);
      await t.db
        .collection('win_devices')
        .updateOne({ _id: new Types.ObjectId(e.winDeviceId) }, { $set: { status: 'unenrolled' } });
      expectUnenrolled(await t.http.post(commandsUrl(e)).set(bearer(e.token)).send(GET_SWV));
      const res = await t.http.patch(deviceUrl(e)).set(bearer(e.token)).send({ status: 'active' });
      expect(res.body).toEqual({
        status: false,
        error: {
          code: 5142,
          message: 'Win Device is unenrolled; enroll it again to reactivate it',
        },
      });
      expect(res.status).toBe(400);
      const stored = await t.db
        .collection('win_devices')
        .findOne({ _id: new Types.ObjectId(e.winDeviceId) });
      expect(stored?.status).toBe('unenrolled');
    });
  });

  it('accepts a token minted by tools/token.ts with the server secret', async () => {
    const req = parseTokenArgs([
      '--sub',
      'cli-user',
      '--org',
      a.slug,
      '--permissions',
      'mdm.windows.command.create',
    ]) as TokenRequest;
    const tk = createToken(req, { JWT_SECRET: TEST_JWT_SECRET });
    const res = await t.http.post(commandsUrl(a)).set(bearer(tk)).send(GET_SWV);
    expect(res.status).toBe(200);
    const batch = await t.db
      .collection('win_command_batches')
      .findOne({ _id: new Types.ObjectId(res.body.data.id) });
    expect(batch?.createdBy).toBe('cli-user');
    expectNotFound(await t.http.post(commandsUrl(b)).set(bearer(tk)).send(GET_SWV), 'Organization');
  });
});
