import type { CommandStartedEvent } from 'mongodb';
import { bearer, startTestApp, TestApp } from '../support/app';
import { seedDevice, Seeded, uniqueDeviceId, uniqueSlug } from '../support/seed';
import { expectError, expectNotFound } from './expect-error';

interface Row {
  id: string;
  organizationId: string | null;
  actor: string;
  method: string;
  route: string;
  params: Record<string, string>;
  targetIds: string[];
  entityId: string | null;
  summary: Record<string, number>;
  outcome: string;
  status: number;
  errorCode: number | null;
  requestId: string | null;
  at: string;
}

const ORG = '/v1/organizations/:organizationId';
const ENTERPRISE = `${ORG}/mdm/windows/enterprise`;
const DEVICE = `${ENTERPRISE}/devices/:winDeviceId`;
const COMMANDS = `${DEVICE}/commands`;
const get = (path: string) => ({ config: { path, action: 'Get', format: 'chr' } });
/** What a record says, without its own id, time and request id; target ids in a stable order. */
const gist = ({ id: _id, at: _at, requestId: _r, ...rest }: Row) => ({
  ...rest,
  targetIds: [...rest.targetIds].sort(),
});

describe('audit trail of administrative writes', () => {
  let t: TestApp;
  const commands: CommandStartedEvent[] = [];

  beforeAll(async () => {
    t = await startTestApp(__filename, {}, { mongo: { monitorCommands: true } });
    t.db.getClient().on('commandStarted', (e: CommandStartedEvent) => commands.push(e));
  });
  afterAll(() => t.close());

  const trail = async (org: string, token: string, query = '') => {
    const res = await t.http
      .get(`/v1/organizations/${org}/audit?limit=100${query}`)
      .set(bearer(token));
    expect(res.status).toBe(200);
    return res.body.data as { docs: Row[]; totalDocs: number };
  };
  const rawRecords = () => t.db.collection('audit_records').find({}).toArray();

  describe('a tenant’s life, written by one actor', () => {
    const actor = 'ops-lifecycle';
    let token: string;
    let orgId: string;
    let slug: string;
    let enterpriseId: string;
    let winDeviceId: string;
    let deviceId: string;
    let batchId: string;
    let cmdIds: string[];
    let secret: string;

    beforeAll(async () => {
      token = t.token({ subject: actor });
      slug = uniqueSlug('audit');
      const org = await t.http
        .post('/v1/organizations')
        .set(bearer(token))
        .send({ name: 'Audit Co', slug });
      orgId = org.body.data.id;
      const ent = await t.http
        .post(`/v1/organizations/${slug}/mdm/windows/enterprise`)
        .set(bearer(token))
        .send({});
      enterpriseId = ent.body.data.id;
      deviceId = uniqueDeviceId();
      const dev = await t.http
        .post(`/v1/organizations/${slug}/mdm/windows/enterprise/devices`)
        .set(bearer(token))
        .send({ deviceId, name: 'Audited PC' });
      winDeviceId = dev.body.data.id;
      const base = `/v1/organizations/${slug}/mdm/windows/enterprise/devices/${deviceId}`;
      const batch = await t.http
        .post(`${base}/commands`)
        .set(bearer(token))
        .send({ commands: [get('./DevDetail/SwV'), get('./DevDetail/OEM')] });
      batchId = batch.body.data.id;
      cmdIds = batch.body.data.commands.map((c: { cmdId: string }) => c.cmdId);
      const cancel = await t.http
        .post(`${base}/commands/${batchId}/cancel`)
        .set(bearer(token))
        .send({ cmdIds: [cmdIds[0]] });
      const unenroll = await t.http.post(`${base}/unenroll`).set(bearer(token));
      const rotation = await t.http
        .post(`/v1/organizations/${slug}/mdm/windows/enterprise/enrollment-secret`)
        .set(bearer(token));
      secret = rotation.body.data.secret;
      for (const res of [org, ent, dev, batch, cancel, unenroll, rotation])
        expect(res.status).toBe(200);
      expect(secret).toEqual(expect.any(String));
    });

    it('records each write once, newest first, with actor, route, targets and outcome', async () => {
      const { docs, totalDocs } = await trail(slug, token);
      const ok = {
        organizationId: orgId,
        actor,
        method: 'POST',
        outcome: 'success',
        status: 200,
        errorCode: null,
      };
      const device = { organizationId: slug, winDeviceId: deviceId };
      expect(totalDocs).toBe(7);
      expect(docs.map(gist)).toEqual([
        {
          ...ok,
          route: `${ENTERPRISE}/enrollment-secret`,
          params: { organizationId: slug },
          targetIds: [orgId, slug].sort(),
          entityId: null,
          summary: {},
        },
        {
          ...ok,
          route: `${DEVICE}/unenroll`,
          params: device,
          targetIds: [orgId, slug, deviceId, winDeviceId].sort(),
          entityId: winDeviceId,
          summary: {},
        },
        {
          ...ok,
          route: `${COMMANDS}/:winCommandId/cancel`,
          params: { ...device, winCommandId: batchId },
          targetIds: [orgId, slug, deviceId, batchId].sort(),
          entityId: batchId,
          summary: { cmdIdCount: 1 },
        },
        {
          ...ok,
          route: COMMANDS,
          params: device,
          targetIds: [orgId, slug, deviceId, batchId, winDeviceId].sort(),
          entityId: batchId,
          summary: { commandCount: 2 },
        },
        {
          ...ok,
          route: `${ENTERPRISE}/devices`,
          params: { organizationId: slug },
          targetIds: [orgId, slug, winDeviceId].sort(),
          entityId: winDeviceId,
          summary: {},
        },
        {
          ...ok,
          route: ENTERPRISE,
          params: { organizationId: slug },
          targetIds: [orgId, slug, enterpriseId].sort(),
          entityId: enterpriseId,
          summary: {},
        },
        {
          ...ok,
          route: '/v1/organizations',
          params: {},
          targetIds: [orgId],
          entityId: orgId,
          summary: {},
        },
      ]);
      const times = docs.map((d) => Date.parse(d.at));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      for (const d of docs) expect(d.requestId).toEqual(expect.any(String));
    });

    it('never stores the rotated secret, nor any request body content', async () => {
      const stored = JSON.stringify(await rawRecords());
      expect(stored).toContain(batchId); // the search reads the documents the trail lists
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain('./DevDetail/SwV');
      expect(stored).not.toContain('Audited PC');
      expect(stored).not.toContain(cmdIds[0]);
    });

    it('filters by actor, by any target id and by time, and pages through the rest', async () => {
      const all = (await trail(slug, token)).docs;
      const byTarget = await trail(slug, token, `&targetId=${batchId}`);
      expect(byTarget.docs.map((d) => d.route)).toEqual([
        `${COMMANDS}/:winCommandId/cancel`,
        COMMANDS,
      ]);
      const byDevice = await trail(slug, token, `&targetId=${winDeviceId}`);
      expect(byDevice.docs.map((d) => d.id)).toEqual(
        all.filter((d) => d.targetIds.includes(winDeviceId)).map((d) => d.id),
      );
      expect(byDevice.totalDocs).toBe(3);
      expect((await trail(slug, token, `&actor=${actor}`)).totalDocs).toBe(7);
      expect((await trail(slug, token, '&actor=someone-else')).totalDocs).toBe(0);

      const from = all[4].at;
      const to = all[1].at;
      const window = await trail(slug, token, `&from=${from}&to=${to}`);
      expect(window.docs.map((d) => d.id)).toEqual(
        all.filter((d) => d.at >= from && d.at <= to).map((d) => d.id),
      );
      expect(window.docs.map((d) => d.id)).toEqual(
        expect.arrayContaining(all.slice(1, 5).map((d) => d.id)),
      );

      const walked: string[] = [];
      for (let page = 1; page <= 4; page++) {
        const res = await t.http
          .get(`/v1/organizations/${orgId}/audit?limit=2&page=${page}`)
          .set(bearer(token));
        expect(res.body.data).toMatchObject({
          totalDocs: 7,
          totalPages: 4,
          page,
          hasNextPage: page < 4,
        });
        walked.push(...res.body.data.docs.map((d: Row) => d.id));
      }
      expect(walked).toEqual(all.map((d) => d.id));
    });

    it('refuses a malformed or inverted time window (5091)', async () => {
      for (const query of [
        'from=yesterday',
        `from=${new Date(2).toISOString()}&to=${new Date(1).toISOString()}`,
      ]) {
        const res = await t.http.get(`/v1/organizations/${slug}/audit?${query}`).set(bearer(token));
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe(5091);
      }
    });
  });

  describe('failures, reads and strangers', () => {
    let s: Seeded;
    beforeAll(async () => {
      s = await seedDevice(t);
    });
    const commandsOf = (org: string) =>
      `/v1/organizations/${org}/mdm/windows/enterprise/devices/${s.deviceId}/commands`;

    it('records a 4003 denial and a 5091 failure with their codes', async () => {
      const denied = t.token({ subject: 'no-rights', permissions: ['mdm.windows.device.get'] });
      expect((await t.http.post(commandsOf(s.slug)).set(bearer(denied)).send({})).status).toBe(403);
      const invalid = await t.http
        .post(commandsOf(s.slug))
        .set(bearer(t.token({ subject: 'sloppy' })))
        .send({ commands: [{ config: { path: './X', action: 'Explode', format: 'chr' } }] });
      expect(invalid.body.error.code).toBe(5091);

      const [sloppy, refused] = (await trail(s.slug, s.token, `&targetId=${s.deviceId}`)).docs;
      expect(gist(refused)).toEqual({
        organizationId: s.orgId,
        actor: 'no-rights',
        method: 'POST',
        route: COMMANDS,
        params: { organizationId: s.slug, winDeviceId: s.deviceId },
        targetIds: [s.orgId, s.slug, s.deviceId].sort(),
        entityId: null,
        summary: {},
        outcome: 'failure',
        status: 403,
        errorCode: 4003,
      });
      expect(gist(sloppy)).toMatchObject({
        actor: 'sloppy',
        route: COMMANDS,
        summary: { commandCount: 1 },
        outcome: 'failure',
        status: 400,
        errorCode: 5091,
      });
    });

    it('does not record reads, nor writes without a valid token', async () => {
      const before = await t.db.collection('audit_records').countDocuments();
      await t.http.get(commandsOf(s.slug)).set(bearer(s.token)).expect(200);
      await t.http.get(`/v1/organizations/${s.slug}`).set(bearer(s.token)).expect(200);
      await t.http.get(`/v1/organizations/${s.slug}/audit`).set(bearer(s.token)).expect(200);
      expectError(await t.http.post(commandsOf(s.slug)).send({}), 4002);
      expectError(await t.http.post(commandsOf(s.slug)).set(bearer('not.a.token')).send({}), 4004);
      expect(await t.db.collection('audit_records').countDocuments()).toBe(before);
    });

    it('requires audit.list', async () => {
      const res = await t.http
        .get(`/v1/organizations/${s.slug}/audit`)
        .set(bearer(t.token({ permissions: ['mdm.windows.device.*', 'organization.get'] })));
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        code: 4003,
        message: 'Permission denied: audit.list required',
      });
      const allowed = await t.http
        .get(`/v1/organizations/${s.slug}/audit`)
        .set(bearer(t.token({ organizations: [s.slug], permissions: ['audit.list'] })));
      expect(allowed.status).toBe(200);
      expect(allowed.body.data.totalDocs).toBeGreaterThan(0);
    });

    it("keeps each tenant's trail to itself, and a stranger's denials out of it", async () => {
      const other = await seedDevice(t);
      const stranger = t.token({
        subject: 'stranger',
        organizations: [other.slug],
        permissions: ['*'],
      });
      expectNotFound(
        await t.http.get(`/v1/organizations/${s.slug}/audit`).set(bearer(stranger)),
        'Organization',
      );
      expectNotFound(
        await t.http.get(`/v1/organizations/${s.orgId}/audit`).set(bearer(stranger)),
        'Organization',
      );
      // A write the stranger may not make on s's organization: stored, but filed under none.
      const body = { commands: [get('./DevDetail/SwV')] };
      expectNotFound(
        await t.http.post(commandsOf(s.slug)).set(bearer(stranger)).send(body),
        'Organization',
      );
      const stored = await t.db.collection('audit_records').findOne({ actor: 'stranger' });
      expect(stored).toMatchObject({ organizationId: null, status: 404, errorCode: 3001 });

      const mine = (await trail(s.slug, s.token)).docs;
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((d) => d.organizationId === s.orgId)).toBe(true);
      expect(mine.some((d) => d.actor === 'stranger')).toBe(false);
      const theirs = (await trail(other.slug, stranger)).docs;
      expect(theirs.length).toBe(3); // their own seed: organization, enterprise, device
      expect(theirs.every((d) => d.organizationId === other.orgId)).toBe(true);
    });

    it('lets the write succeed when its record cannot be stored (fails open)', async () => {
      const records = t.db.collection('audit_records');
      const url = `/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${s.deviceId}`;
      const token = t.token({ subject: 'fail-open' });
      // A real store refusal: with a unique index on the request id, the second of two requests
      // sent with the same X-Request-Id cannot be recorded.
      await records.createIndex({ requestId: 1 }, { unique: true, name: 'test-one-per-request' });
      const write = (name: string) =>
        t.http.patch(url).set(bearer(token)).set('X-Request-Id', 'fail-open-1').send({ name });
      try {
        await write('first').expect(200);
        const second = await write('second');
        expect(second.status).toBe(200);
        expect(second.body.data.name).toBe('second');
      } finally {
        await records.dropIndex('test-one-per-request');
      }
      expect(await records.countDocuments({ actor: 'fail-open' })).toBe(1);
      const device = await t.http.get(url).set(bearer(s.token));
      expect(device.body.data.name).toBe('second');
    });

    it('costs one insert per write, and no organization lookup once the slug is known', async () => {
      const url = `/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${s.deviceId}`;
      await t.http.patch(url).set(bearer(s.token)).send({ name: 'warm-up' }).expect(200);
      commands.length = 0;
      await t.http.patch(url).set(bearer(s.token)).send({ name: 'renamed' }).expect(200);
      const on = (name: string, collection: string) =>
        commands.filter((c) => c.commandName === name && c.command[name] === collection).length;
      expect(on('insert', 'audit_records')).toBe(1);
      expect(
        commands.filter((c) => JSON.stringify(c.command).includes('audit_records')),
      ).toHaveLength(1);
      // The service's own tenant check; the audit reuses the id the answer names.
      expect(on('find', 'organizations')).toBe(1);

      // A write whose answer names no organization, by slug: once the slug is known (it was
      // above), the audit asks the store nothing more than the service itself did.
      commands.length = 0;
      await t.http
        .post(`/v1/organizations/${s.slug}/mdm/windows/enterprise/enrollment-secret`)
        .set(bearer(s.token))
        .expect(200);
      const withAudit = on('find', 'organizations');
      expect(on('insert', 'audit_records')).toBe(1);
      commands.length = 0;
      await t.http
        .get(`/v1/organizations/${s.slug}/mdm/windows/enterprise`)
        .set(bearer(s.token))
        .expect(200);
      expect(withAudit).toBe(on('find', 'organizations'));
      expect(on('insert', 'audit_records')).toBe(0); // the GET
    });
  });
});
