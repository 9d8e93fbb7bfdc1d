import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { Types } from 'mongoose';
import { bearer, startTestApp, TestApp } from '../support/app';
import { seedDevice, Seeded, uniqueDeviceId, uniqueSlug } from '../support/seed';
import { expectConflict, expectInvalid, expectNotFound } from './expect-error';

x509.cryptoProvider.set(webcrypto);

const ORG_KEYS = ['id', 'name', 'slug', 'status', 'createdAt', 'updatedAt'];
const ENTERPRISE_KEYS = [
  'id',
  'organizationId',
  'name',
  'status',
  'domains',
  'ca',
  'pollSchedule',
  'createdAt',
  'updatedAt',
];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function selfSignedPem(
  cn: string,
): Promise<{ pem: string; thumbprint: string; serial: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a1b2c3d4e5f',
    name: `CN=${cn}`,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
    signingAlgorithm: alg,
    keys: keys as webcrypto.CryptoKeyPair,
  });
  const thumbprint = createHash('sha1')
    .update(Buffer.from(cert.rawData))
    .digest('hex')
    .toUpperCase();
  return { pem: cert.toString('pem'), thumbprint, serial: cert.serialNumber.toUpperCase() };
}

describe('organizations, the Windows enterprise and devices', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp(__filename);
    token = t.token();
  });
  afterAll(() => t.close());

  const api = {
    createOrg: (body: object) => t.http.post('/v1/organizations').set(bearer(token)).send(body),
    getOrg: (org: string, tk = token) => t.http.get(`/v1/organizations/${org}`).set(bearer(tk)),
    createEnterprise: (org: string, body: object = {}) =>
      t.http.post(`/v1/organizations/${org}/mdm/windows/enterprise`).set(bearer(token)).send(body),
    getEnterprise: (org: string) =>
      t.http.get(`/v1/organizations/${org}/mdm/windows/enterprise`).set(bearer(token)),
    createDevice: (org: string, body: object, tk = token) =>
      t.http
        .post(`/v1/organizations/${org}/mdm/windows/enterprise/devices`)
        .set(bearer(tk))
        .send(body),
    listDevices: (org: string, query = '', tk = token) =>
      t.http.get(`/v1/organizations/${org}/mdm/windows/enterprise/devices${query}`).set(bearer(tk)),
    getDevice: (org: string, dev: string, tk = token) =>
      t.http.get(`/v1/organizations/${org}/mdm/windows/enterprise/devices/${dev}`).set(bearer(tk)),
    patchDevice: (org: string, dev: string, body: object, tk = token) =>
      t.http
        .patch(`/v1/organizations/${org}/mdm/windows/enterprise/devices/${dev}`)
        .set(bearer(tk))
        .send(body),
  };
  const orgDoc = (id: string) =>
    t.db.collection('organizations').findOne({ _id: new Types.ObjectId(id) });
  const deviceDoc = (id: string) =>
    t.db.collection('win_devices').findOne({ _id: new Types.ObjectId(id) });

  describe('organizations', () => {
    it('creates one with an explicit slug and stores it', async () => {
      const slug = uniqueSlug('contoso');
      const res = await api.createOrg({ name: '  Contoso Ltd  ', slug });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe(true);
      const d = res.body.data;
      expect(Object.keys(d).sort()).toEqual([...ORG_KEYS].sort());
      expect(d).toMatchObject({ name: 'Contoso Ltd', slug, status: 'active' });
      expect(d.id).toMatch(/^[a-f0-9]{24}$/);
      expect(d.createdAt).toMatch(ISO);
      expect(await orgDoc(d.id)).toMatchObject({ name: 'Contoso Ltd', slug, status: 'active' });
    });

    it('derives the slug from the name', async () => {
      const tag = uniqueSlug('x').slice(2);
      const res = await api.createOrg({ name: `Société Générale & Co ${tag}` });
      expect(res.status).toBe(200);
      expect(res.body.data.slug).toBe(`societe-generale-co-${tag}`);
      expect((await orgDoc(res.body.data.id))?.slug).toBe(`societe-generale-co-${tag}`);
    });

    it('derives a different slug when the derived one is taken', async () => {
      const name = `Fabrikam ${uniqueSlug('y').slice(2)}`;
      const first = await api.createOrg({ name });
      const second = await api.createOrg({ name });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      const base = first.body.data.slug;
      expect(second.body.data.slug).not.toBe(base);
      expect(second.body.data.slug.startsWith(`${base}-`)).toBe(true);
      expect(await t.db.collection('organizations').countDocuments({ name })).toBe(2);
    });

    it.each([
      ['a one-letter name', 'A'],
      ['a name without letters or digits', '!!!'],
      ['a name that would give a 24-hex slug', 'deadbeefdeadbeefdeadbeef'],
      [
        'a name that would give a 24-hex slug after folding',
        'DEADBEEF DEADBEEF DEADBEEF'.replace(/ /g, ''),
      ],
    ])('derives a usable slug from %s', async (_l, name) => {
      const res = await api.createOrg({ name });
      expect(res.status).toBe(200);
      const { slug, id } = res.body.data;
      expect(slug).toMatch(/^[a-z0-9][a-z0-9-]{2,62}$/);
      expect(slug).not.toMatch(/^[a-fA-F0-9]{24}$/);
      const bySlug = await api.getOrg(slug);
      expect(bySlug.status).toBe(200);
      expect(bySlug.body.data.id).toBe(id);
    });

    it('refuses a duplicate slug with 409 4009 and stores nothing', async () => {
      const slug = uniqueSlug('dup');
      expect((await api.createOrg({ name: 'One', slug })).status).toBe(200);
      const res = await api.createOrg({ name: 'Two', slug });
      expectConflict(res, 'Slug already in use');
      expect(res.body.error.details).toEqual([
        { field: 'slug', message: `slug "${slug}" is already taken` },
      ]);
      expect(await t.db.collection('organizations').countDocuments({ slug })).toBe(1);
    });

    it.each([
      ['a 24-hex slug', { name: 'Hex', slug: 'abcdefabcdefabcdefabcdef' }, 'slug'],
      ['an upper-case 24-hex slug', { name: 'Hex', slug: 'ABCDEFABCDEFABCDEFABCDEF' }, 'slug'],
      ['an upper-case slug', { name: 'Up', slug: 'Contoso' }, 'slug'],
      ['a two-character slug', { name: 'Short', slug: 'ab' }, 'slug'],
      ['a 64-character slug', { name: 'Long', slug: 'a'.repeat(64) }, 'slug'],
      ['a slug starting with a dash', { name: 'Dash', slug: '-abc' }, 'slug'],
      ['a slug with an underscore', { name: 'Under', slug: 'a_bc' }, 'slug'],
      ['a missing name', { slug: 'no-name-org' }, 'name'],
      ['an empty name', { name: '' }, 'name'],
      ['a 201-character name', { name: 'n'.repeat(201) }, 'name'],
      ['an unknown field', { name: 'X', owner: 'me' }, 'owner'],
    ])('refuses %s with 400 5091', async (_l, body, field) => {
      const before = await t.db.collection('organizations').countDocuments();
      expectInvalid(await api.createOrg(body), field);
      expect(await t.db.collection('organizations').countDocuments()).toBe(before);
    });

    it('accepts a 63-character slug', async () => {
      const slug = `${uniqueSlug('s')}-${'a'.repeat(52)}`;
      expect(slug).toHaveLength(63);
      expect((await api.createOrg({ name: 'Long slug', slug })).status).toBe(200);
    });

    it('reads one by id, by slug and by the slug in another case', async () => {
      const slug = uniqueSlug('read');
      const created = (await api.createOrg({ name: 'Readable', slug })).body.data;
      for (const key of [created.id, slug, slug.toUpperCase()]) {
        const res = await api.getOrg(key);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: true, data: created });
      }
    });

    it('answers 3001 for a missing organization and 5091 for a bad id', async () => {
      expectNotFound(await api.getOrg(new Types.ObjectId().toHexString()), 'Organization');
      expectNotFound(await api.getOrg('no-such-org'), 'Organization');
      expectInvalid(await api.getOrg('a_b'), 'organizationId');
    });
  });

  describe('the Windows enterprise', () => {
    let slug: string;
    let orgId: string;
    beforeAll(async () => {
      slug = uniqueSlug('ent');
      orgId = (await api.createOrg({ name: 'Enterprise Org', slug })).body.data.id;
    });

    it('answers 3001 while the organization has none, for the enterprise and its devices', async () => {
      // An organization of its own: the next test gives the shared one its enterprise.
      const bare = uniqueSlug('bare');
      const bareId = (await api.createOrg({ name: 'Bare Org', slug: bare })).body.data.id;
      expectNotFound(await api.getEnterprise(bare), 'Enterprise');
      expectNotFound(await api.listDevices(bare), 'Enterprise');
      expectNotFound(await api.createDevice(bare, { deviceId: uniqueDeviceId() }), 'Enterprise');
      expectNotFound(await api.getDevice(bare, 'ANYDEVICE'), 'Enterprise');
      expect(
        await t.db
          .collection('win_devices')
          .countDocuments({ organizationId: new Types.ObjectId(bareId) }),
      ).toBe(0);
    });

    it('creates it (named after the organization by default), then refuses a second with 409', async () => {
      const res = await api.createEnterprise(slug);
      expect(res.status).toBe(200);
      const e = res.body.data;
      expect(Object.keys(e).sort()).toEqual([...ENTERPRISE_KEYS].sort());
      expect(e).toMatchObject({ organizationId: orgId, name: 'Enterprise Org', status: 'active' });
      const stored = await t.db
        .collection('win_enterprises')
        .find({ organizationId: new Types.ObjectId(orgId) })
        .toArray();
      expect(stored).toHaveLength(1);
      expect(stored[0]._id.toHexString()).toBe(e.id);

      expectConflict(
        await api.createEnterprise(orgId, { name: 'Again' }),
        'The organization already has a Windows enterprise',
      );
      expect(
        await t.db
          .collection('win_enterprises')
          .countDocuments({ organizationId: new Types.ObjectId(orgId) }),
      ).toBe(1);

      for (const key of [slug, orgId]) {
        const read = await api.getEnterprise(key);
        expect(read.status).toBe(200);
        expect(read.body).toEqual({ status: true, data: e });
      }
    });

    it('takes a name, and refuses unknown fields', async () => {
      const s2 = uniqueSlug('named');
      await api.createOrg({ name: 'Named Org', slug: s2 });
      expectInvalid(await api.createEnterprise(s2, { name: 'Fleet', ca: 'x' }), 'ca');
      expectInvalid(await api.createEnterprise(s2, { name: '' }), 'name');
      const res = await api.createEnterprise(s2, { name: 'Contoso fleet' });
      expect(res.status).toBe(200);
      expect(res.body.data.name).toBe('Contoso fleet');
    });

    it('creates exactly one under concurrent requests', async () => {
      const s3 = uniqueSlug('race');
      const id = (await api.createOrg({ name: 'Race Org', slug: s3 })).body.data.id;
      const results = await Promise.all([1, 2, 3].map(() => api.createEnterprise(s3)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      expect(
        await t.db
          .collection('win_enterprises')
          .countDocuments({ organizationId: new Types.ObjectId(id) }),
      ).toBe(1);
    });
  });

  describe('devices', () => {
    let s: Seeded;
    beforeAll(async () => {
      s = await seedDevice(t);
    });

    it('registers a device as active and stores it', async () => {
      const deviceId = uniqueDeviceId();
      // An MDM user of this organization (invitations create them).
      const inv = await t.http
        .post(`/v1/organizations/${s.slug}/mdm/windows/enterprise/enrollment-tokens`)
        .set(bearer(token))
        .send({ userEmails: ['reception@example.test'] });
      expect(inv.status).toBe(200);
      const mdmUserId: string = inv.body.data[0].mdmUserId;
      const res = await api.createDevice(s.slug, { deviceId, name: 'Reception PC', mdmUserId });
      expect(res.status).toBe(200);
      const d = res.body.data;
      expect(d).toMatchObject({
        organizationId: s.orgId,
        winEnterpriseId: s.enterpriseId,
        deviceId,
        name: 'Reception PC',
        mdmUserId,
        status: 'active',
      });
      expect(d.id).toMatch(/^[a-f0-9]{24}$/);
      expect(d.createdAt).toMatch(ISO);
      expect(d).not.toHaveProperty('certificate');
      const stored = await deviceDoc(d.id);
      expect(stored).toMatchObject({ deviceId, name: 'Reception PC', status: 'active' });
      expect(stored?.organizationId.toHexString()).toBe(s.orgId);
      expect(stored?.winEnterpriseId.toHexString()).toBe(s.enterpriseId);
      expect(stored?.mdmUserId.toHexString()).toBe(mdmUserId);

      // The batch's mdmUserId is the device's MDM user.
      const batch = await t.http
        .post(`/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${deviceId}/commands`)
        .set(bearer(token))
        .send({
          commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }],
        });
      expect(batch.status).toBe(200);
      expect(batch.body.data.mdmUserId).toBe(mdmUserId);
    });

    it("refuses an mdmUserId that is not one of the organization's MDM users (5091)", async () => {
      const other = await seedDevice(t);
      const inv = await t.http
        .post(`/v1/organizations/${other.slug}/mdm/windows/enterprise/enrollment-tokens`)
        .set(bearer(token))
        .send({ userEmails: ['someone@example.test'] });
      const foreign: string = inv.body.data[0].mdmUserId;
      for (const mdmUserId of [foreign, new Types.ObjectId().toHexString()]) {
        const res = await api.createDevice(s.slug, { deviceId: uniqueDeviceId(), mdmUserId });
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 5091, details: [{ field: 'mdmUserId' }] });
      }
    });

    it('refuses a duplicate deviceId with 409 4009, but allows it in another organization', async () => {
      const res = await api.createDevice(s.slug, { deviceId: s.deviceId, name: 'Clone' });
      expectConflict(res, 'A device with this deviceId already exists');
      expect(res.body.error.details).toEqual([
        { field: 'deviceId', message: `device ${s.deviceId} is already registered` },
      ]);
      expect(await t.db.collection('win_devices').countDocuments({ deviceId: s.deviceId })).toBe(1);

      const other = await seedDevice(t);
      const elsewhere = await api.createDevice(other.slug, { deviceId: s.deviceId });
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.body.data.organizationId).toBe(other.orgId);
      expect(await t.db.collection('win_devices').countDocuments({ deviceId: s.deviceId })).toBe(2);
    });

    it('registers exactly one under concurrent duplicate requests', async () => {
      const deviceId = uniqueDeviceId();
      const results = await Promise.all(
        [1, 2, 3].map(() => api.createDevice(s.slug, { deviceId })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      expect(await t.db.collection('win_devices').countDocuments({ deviceId })).toBe(1);
    });

    it.each([
      ['a missing deviceId', { name: 'x' }, 'deviceId'],
      ['a deviceId with a space', { deviceId: 'AB CD' }, 'deviceId'],
      ['a deviceId with a dot', { deviceId: 'AB.CD' }, 'deviceId'],
      ['a 129-character deviceId', { deviceId: 'D'.repeat(129) }, 'deviceId'],
      ['a numeric deviceId', { deviceId: 1234 }, 'deviceId'],
      [
        'an mdmUserId that is not 24-hex',
        { deviceId: 'OKDEVICE1', mdmUserId: 'user-1' },
        'mdmUserId',
      ],
      ['an empty name', { deviceId: 'OKDEVICE2', name: '' }, 'name'],
      ['a status on create', { deviceId: 'OKDEVICE3', status: 'inactive' }, 'status'],
      [
        'a certificate that is not PEM',
        { deviceId: 'OKDEVICE4', certificate: 'MIIB...' },
        'certificate',
      ],
    ])('refuses %s with 400 5091', async (_l, body, field) => {
      const before = await t.db.collection('win_devices').countDocuments();
      expectInvalid(await api.createDevice(s.slug, body), field);
      expect(await t.db.collection('win_devices').countDocuments()).toBe(before);
    });

    it('reads one by 24-hex id and by Windows device id, in the same shape', async () => {
      const byId = await api.getDevice(s.slug, s.winDeviceId);
      const byDeviceId = await api.getDevice(s.orgId, s.deviceId);
      expect(byId.status).toBe(200);
      expect(byId.body.data).toMatchObject({
        id: s.winDeviceId,
        deviceId: s.deviceId,
        name: 'Test PC',
      });
      expect(byDeviceId.body).toEqual(byId.body);
      // The SyncML session state stored on the device document is never exposed.
      for (const key of ['syncml', 'lockedUntil', 'lockToken', 'certificateThumbprint', '_id']) {
        expect(byId.body.data).not.toHaveProperty(key);
      }
    });

    it('reads a device whose Windows device id is itself 24 hex characters', async () => {
      const deviceId = 'ABCDEF0123456789ABCDEF01';
      const created = await api.createDevice(s.slug, { deviceId });
      expect(created.status).toBe(200);
      const res = await api.getDevice(s.slug, deviceId);
      expect(res.status).toBe(200);
      expect(res.body.data.id).toBe(created.body.data.id);
    });

    it('refuses a winDeviceId that breaks its pattern', async () => {
      expectInvalid(await api.getDevice(s.slug, 'AB-CD'), 'winDeviceId');
    });

    describe('PATCH', () => {
      let d: { id: string; deviceId: string };
      beforeAll(async () => {
        const res = await api.createDevice(s.slug, { deviceId: uniqueDeviceId(), name: 'Before' });
        d = res.body.data;
      });

      it('renames and changes the status, by either id', async () => {
        // A past updatedAt the PATCH must replace, so the check needs no clock of the test.
        const planted = new Date('2001-01-01T00:00:00.000Z');
        await t.db
          .collection('win_devices')
          .updateOne({ _id: new Types.ObjectId(d.id) }, { $set: { updatedAt: planted } });
        const before = await deviceDoc(d.id);
        expect(before!.updatedAt).toEqual(planted);
        const renamed = await api.patchDevice(s.slug, d.deviceId, { name: 'After' });
        expect(renamed.status).toBe(200);
        expect(renamed.body.data).toMatchObject({ id: d.id, name: 'After', status: 'active' });
        const off = await api.patchDevice(s.orgId, d.id, { status: 'inactive' });
        expect(off.status).toBe(200);
        expect(off.body.data).toMatchObject({ name: 'After', status: 'inactive' });
        const stored = await deviceDoc(d.id);
        expect(stored).toMatchObject({ name: 'After', status: 'inactive' });
        expect(stored!.createdAt).toEqual(before!.createdAt);
        expect(stored!.updatedAt.getTime()).toBeGreaterThanOrEqual(stored!.createdAt.getTime());
        expect(off.body.data).toMatchObject({
          createdAt: before!.createdAt.toISOString(),
          updatedAt: stored!.updatedAt.toISOString(),
        });
        expect((await api.getDevice(s.slug, d.id)).body.data).toMatchObject({
          name: 'After',
          status: 'inactive',
        });
        const on = await api.patchDevice(s.slug, d.id, { status: 'active', name: 'Back' });
        expect(on.body.data).toMatchObject({ name: 'Back', status: 'active' });
        expect(await deviceDoc(d.id)).toMatchObject({ name: 'Back', status: 'active' });
      });

      it.each([
        ['status unenrolled', { status: 'unenrolled' }, 'status'],
        ['an unknown status', { status: 'paused' }, 'status'],
        ['an empty name', { name: '' }, 'name'],
        ['an unknown field', { deviceId: 'OTHER' }, 'deviceId'],
        ['a certificate that is not PEM', { certificate: 'hello' }, 'certificate'],
      ])('refuses %s with 400 5091 and changes nothing', async (_l, body, field) => {
        const before = await deviceDoc(d.id);
        expectInvalid(await api.patchDevice(s.slug, d.id, body), field);
        expect(await deviceDoc(d.id)).toEqual(before);
      });

      it('stores the SHA-1 thumbprint of a PEM certificate', async () => {
        const { pem, thumbprint, serial } = await selfSignedPem(d.deviceId);
        // An independent reading of the same certificate.
        expect(new X509Certificate(pem).fingerprint.replace(/:/g, '')).toBe(thumbprint);
        const res = await api.patchDevice(s.slug, d.id, { certificate: pem });
        expect(res.status).toBe(200);
        expect(res.body.data.certificate).toEqual({
          thumbprint,
          serialNumber: serial,
          notBefore: '2026-01-01T00:00:00.000Z',
          notAfter: '2027-01-01T00:00:00.000Z',
          source: 'admin',
        });
        const stored = await deviceDoc(d.id);
        expect(stored?.certificateThumbprint).toBe(thumbprint);
        expect(stored?.certificate.thumbprint).toBe(thumbprint);
        expect((await api.getDevice(s.slug, d.id)).body.data.certificate.thumbprint).toBe(
          thumbprint,
        );
      });

      it('registers a device with a certificate', async () => {
        const deviceId = uniqueDeviceId();
        const { pem, thumbprint } = await selfSignedPem(deviceId);
        const res = await api.createDevice(s.slug, { deviceId, certificate: pem });
        expect(res.status).toBe(200);
        expect(res.body.data.certificate.thumbprint).toBe(thumbprint);
        expect((await deviceDoc(res.body.data.id))?.certificateThumbprint).toBe(thumbprint);
      });

      it('refuses a PEM block that is not a certificate with 5091, keeping the old one', async () => {
        const before = await deviceDoc(d.id);
        const garbage =
          '-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
        const res = await api.patchDevice(s.slug, d.id, { certificate: garbage });
        expectInvalid(res, 'certificate');
        expect(res.body.error.details).toEqual([
          { field: 'certificate', message: 'certificate is not a parsable X.509 certificate' },
        ]);
        expect(await deviceDoc(d.id)).toEqual(before);
        const created = await api.createDevice(s.slug, {
          deviceId: uniqueDeviceId(),
          certificate: garbage,
        });
        expectInvalid(created, 'certificate');
      });

      it('answers 3001 for a missing device', async () => {
        expectNotFound(await api.patchDevice(s.slug, uniqueDeviceId(), { name: 'x' }), 'Device');
        expectNotFound(
          await api.patchDevice(s.slug, new Types.ObjectId().toHexString(), { name: 'x' }),
          'Device',
        );
      });
    });

    describe('list', () => {
      let p: Seeded;
      let ids: string[]; // newest first
      beforeAll(async () => {
        p = await seedDevice(t, { deviceId: 'PAGE_0' });
        const created = [p.winDeviceId];
        for (const [i, name] of ['Echo', 'Delta', 'Charlie', 'Bravo'].entries()) {
          const res = await api.createDevice(p.slug, { deviceId: `PAGE_${i + 1}`, name });
          created.push(res.body.data.id);
        }
        ids = created.reverse();
      });

      const list = async (query: string) => {
        const res = await api.listDevices(p.slug, query);
        expect(res.status).toBe(200);
        expect(res.body.status).toBe(true);
        return res.body.data as {
          docs: { id: string; deviceId: string; name?: string; status: string }[];
          totalDocs: number;
          limit: number;
          page: number;
          totalPages: number;
          hasNextPage: boolean;
          hasPrevPage: boolean;
        };
      };

      it('lists the enterprise devices, newest first, with page metadata', async () => {
        const all = await list('');
        expect(all.docs.map((x) => x.id)).toEqual(ids);
        expect(all).toMatchObject({
          totalDocs: 5,
          limit: 20,
          page: 1,
          totalPages: 1,
          hasNextPage: false,
          hasPrevPage: false,
        });
        expect(Object.keys(all).sort()).toEqual(
          ['docs', 'hasNextPage', 'hasPrevPage', 'limit', 'page', 'totalDocs', 'totalPages'].sort(),
        );
      });

      it('pages with page and limit', async () => {
        const p1 = await list('?limit=2');
        expect(p1.docs.map((x) => x.id)).toEqual(ids.slice(0, 2));
        expect(p1).toMatchObject({
          totalDocs: 5,
          limit: 2,
          page: 1,
          totalPages: 3,
          hasNextPage: true,
          hasPrevPage: false,
        });
        const p2 = await list('?limit=2&page=2');
        expect(p2.docs.map((x) => x.id)).toEqual(ids.slice(2, 4));
        expect(p2).toMatchObject({ page: 2, hasNextPage: true, hasPrevPage: true });
        const p3 = await list('?limit=2&page=3');
        expect(p3.docs.map((x) => x.id)).toEqual(ids.slice(4));
        expect(p3).toMatchObject({ page: 3, totalPages: 3, hasNextPage: false, hasPrevPage: true });
        const p4 = await list('?limit=2&page=4');
        expect(p4.docs).toEqual([]);
        expect(p4).toMatchObject({ totalDocs: 5, page: 4, hasNextPage: false, hasPrevPage: true });
        const max = await list('?limit=100');
        expect(max.docs).toHaveLength(5);
      });

      it('sorts by an allowed field', async () => {
        expect((await list('?sort=deviceId:asc')).docs.map((x) => x.deviceId)).toEqual([
          'PAGE_0',
          'PAGE_1',
          'PAGE_2',
          'PAGE_3',
          'PAGE_4',
        ]);
        expect((await list('?sort=name:asc')).docs.map((x) => x.name)).toEqual([
          'Bravo',
          'Charlie',
          'Delta',
          'Echo',
          'Test PC',
        ]);
        expect((await list('?sort=createdAt:asc')).docs.map((x) => x.id)).toEqual(
          [...ids].reverse(),
        );
      });

      it.each([
        ['limit 0', '?limit=0', 'limit'],
        ['limit 101', '?limit=101', 'limit'],
        ['a non-numeric limit', '?limit=ten', 'limit'],
        ['a fractional limit', '?limit=1.5', 'limit'],
        ['page 0', '?page=0', 'page'],
        ['a negative page', '?page=-1', 'page'],
        ['a sort on an unknown field', '?sort=secret:asc', 'sort'],
        ['a sort without direction', '?sort=name', 'sort'],
        ['a sort with a bad direction', '?sort=name:up', 'sort'],
        ['an unknown status', '?status=paused', 'status'],
        ['an unknown query parameter', '?color=red', 'color'],
      ])('refuses %s with 400 5091', async (_l, query, field) => {
        expectInvalid(await api.listDevices(p.slug, query), field);
      });

      it('filters by status', async () => {
        const target = ids[1];
        expect((await api.patchDevice(p.slug, target, { status: 'inactive' })).status).toBe(200);
        const inactive = await list('?status=inactive');
        expect(inactive.docs.map((x) => x.id)).toEqual([target]);
        expect(inactive).toMatchObject({ totalDocs: 1, totalPages: 1 });
        const active = await list('?status=active&limit=3');
        expect(active.docs.map((x) => x.id)).toEqual(ids.filter((x) => x !== target).slice(0, 3));
        expect(active).toMatchObject({ totalDocs: 4, totalPages: 2, hasNextPage: true });
        expect((await list('?status=unenrolled')).totalDocs).toBe(0);
      });

      it("never lists another enterprise's devices", async () => {
        const all = await list('?limit=100');
        expect(all.docs.map((x) => x.id)).toEqual(ids);
        expect(all.totalDocs).toBe(ids.length);
      });
    });

    describe('tenant isolation', () => {
      it("another organization's token never sees or changes the device", async () => {
        const mine = await seedDevice(t);
        const theirs = await seedDevice(t);
        const tk = t.token({ organizations: [theirs.orgId] });
        const before = await deviceDoc(mine.winDeviceId);
        for (const org of [mine.slug, mine.orgId]) {
          for (const dev of [mine.deviceId, mine.winDeviceId]) {
            expectNotFound(await api.getDevice(org, dev, tk), 'Organization');
            expectNotFound(
              await api.patchDevice(org, dev, { status: 'inactive', name: 'pwned' }, tk),
              'Organization',
            );
          }
          expectNotFound(await api.listDevices(org, '', tk), 'Organization');
          expectNotFound(
            await api.createDevice(org, { deviceId: uniqueDeviceId() }, tk),
            'Organization',
          );
        }
        // Under its own organization, the other tenant's device does not exist either.
        for (const dev of [mine.deviceId, mine.winDeviceId]) {
          expectNotFound(await api.getDevice(theirs.slug, dev, tk), 'Device');
          expectNotFound(await api.patchDevice(theirs.slug, dev, { name: 'pwned' }, tk), 'Device');
        }
        const own = await api.listDevices(theirs.slug, '', tk);
        expect(own.status).toBe(200);
        expect(own.body.data.docs.map((x: { id: string }) => x.id)).toEqual([theirs.winDeviceId]);
        expect(await deviceDoc(mine.winDeviceId)).toEqual(before);
        expect(
          await t.db
            .collection('win_devices')
            .countDocuments({ organizationId: new Types.ObjectId(mine.orgId) }),
        ).toBe(1);
      });
    });
  });
});
