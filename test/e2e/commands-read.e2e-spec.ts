import { Types } from 'mongoose';
import { bearer, startTestApp, TestApp } from '../support/app';
import { commandsUrl, seedDevice, Seeded, uniqueDeviceId } from '../support/seed';
import { expectConflict, expectInvalid, expectNotFound } from './expect-error';

const get = (path: string) => ({ config: { path, action: 'Get', format: 'chr' } });
const gets = (n: number, prefix = './Vendor/MSFT/Read') =>
  Array.from({ length: n }, (_, i) => get(`${prefix}/${i}`));
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const POST_KEYS = [
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
];

interface Cmd {
  cmdId: string;
  status: string;
  canceledAt: string | null;
}
interface Batch {
  id: string;
  commands: Cmd[];
}

describe('reading and cancelling commands', () => {
  let t: TestApp;
  let s: Seeded;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp(__filename);
    s = await seedDevice(t);
    token = s.token;
  });
  afterAll(() => t.close());

  /** Another active device of `of`'s organization. */
  const addDevice = async (of: Seeded): Promise<Seeded> => {
    const deviceId = uniqueDeviceId();
    const res = await t.http
      .post(`/v1/organizations/${of.slug}/mdm/windows/enterprise/devices`)
      .set(bearer(token))
      .send({ deviceId });
    expect(res.status).toBe(200);
    return { ...of, deviceId, winDeviceId: res.body.data.id };
  };
  const post = async (dev: Seeded, body: object, key?: string) => {
    const req = t.http.post(commandsUrl(dev)).set(bearer(token));
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send(body);
  };
  const queue = async (dev: Seeded, body: object): Promise<Batch> => {
    const res = await post(dev, body);
    expect(res.status).toBe(200);
    return res.body.data;
  };
  const list = (dev: Seeded, query = '') =>
    t.http.get(`${commandsUrl(dev)}${query}`).set(bearer(token));
  const getOne = (dev: Seeded, id: string) =>
    t.http.get(`${commandsUrl(dev)}${id}`).set(bearer(token));
  const actions = (dev: Seeded, id: string, query = '') =>
    t.http.get(`${commandsUrl(dev)}${id}/actions${query}`).set(bearer(token));
  const cancel = (dev: Seeded, id: string, body?: object) => {
    const req = t.http.post(`${commandsUrl(dev)}${id}/cancel`).set(bearer(token));
    return body === undefined ? req : req.send(body);
  };
  const commandDocs = (batchId: string) =>
    t.db
      .collection('win_commands')
      .find({ batchId: new Types.ObjectId(batchId) })
      .sort({ position: 1 })
      .toArray();
  const setStatus = (cmdId: string, set: Record<string, unknown>) =>
    t.db.collection('win_commands').updateOne({ cmdId }, { $set: set });
  const countFor = (collection: string, dev: Seeded) =>
    t.db
      .collection(collection)
      .countDocuments({ winDeviceId: new Types.ObjectId(dev.winDeviceId) });

  describe('GET …/commands/ (list)', () => {
    let d: Seeded;
    let b1: Batch;
    let b2: Batch;
    let b3: Batch;
    beforeAll(async () => {
      d = await addDevice(s);
      b1 = await queue(d, { commands: gets(1), name: 'first' });
      b2 = await queue(d, { commands: gets(2), name: 'second' });
      b3 = await queue(d, { commands: gets(3) });
      const res = await cancel(d, b2.id, { cmdIds: [b2.commands[0].cmdId] });
      expect(res.status).toBe(200);
    });

    it('lists the batches newest first, as summaries with counts per status', async () => {
      const res = await list(d);
      expect(res.status).toBe(200);
      const page = res.body.data;
      expect(page).toMatchObject({
        totalDocs: 3,
        limit: 20,
        page: 1,
        totalPages: 1,
        hasNextPage: false,
        hasPrevPage: false,
      });
      expect(page.docs.map((x: { id: string }) => x.id)).toEqual([b3.id, b2.id, b1.id]);
      for (const doc of page.docs) {
        expect(Object.keys(doc)).toEqual([
          'id',
          'name',
          'winDeviceId',
          'summary',
          'createdAt',
          'updatedAt',
        ]);
        expect(doc.winDeviceId).toBe(d.winDeviceId);
        expect(doc.createdAt).toMatch(ISO);
      }
      expect(page.docs.map((x: { name: string | null }) => x.name)).toEqual([
        null,
        'second',
        'first',
      ]);
      expect(page.docs.map((x: { summary: unknown }) => x.summary)).toEqual([
        [{ status: 'Pending', count: 3 }],
        [
          { status: 'Cancel', count: 1 },
          { status: 'Pending', count: 1 },
        ],
        [{ status: 'Pending', count: 1 }],
      ]);
    });

    it('pages and sorts', async () => {
      const p1 = (await list(d, '?limit=2')).body.data;
      expect(p1.docs.map((x: { id: string }) => x.id)).toEqual([b3.id, b2.id]);
      expect(p1).toMatchObject({
        totalDocs: 3,
        limit: 2,
        page: 1,
        totalPages: 2,
        hasNextPage: true,
        hasPrevPage: false,
      });
      const p2 = (await list(d, '?limit=2&page=2')).body.data;
      expect(p2.docs.map((x: { id: string }) => x.id)).toEqual([b1.id]);
      expect(p2).toMatchObject({ page: 2, totalPages: 2, hasNextPage: false, hasPrevPage: true });
      const asc = (await list(d, '?sort=createdAt:asc')).body.data;
      expect(asc.docs.map((x: { id: string }) => x.id)).toEqual([b1.id, b2.id, b3.id]);
    });

    it.each([
      ['limit 0', '?limit=0', 'limit'],
      ['limit 101', '?limit=101', 'limit'],
      ['a sort on a field that is not allowed', '?sort=name:asc', 'sort'],
      ['a malformed sort', '?sort=createdAt', 'sort'],
      ['page 0', '?page=0', 'page'],
      ['an unknown parameter', '?status=Pending', 'status'],
    ])('refuses %s with 400 5091', async (_l, query, field) => {
      expectInvalid(await list(d, query), field);
    });

    it('keeps the counts of a batch whose commands are all final, and only of such a batch', async () => {
      const dev = await addDevice(s);
      const done = await queue(dev, { commands: gets(2) });
      const open = await queue(dev, { commands: gets(2) });
      for (const c of [...done.commands, open.commands[0]]) {
        await setStatus(c.cmdId, { status: 'Acknowledged', statusCode: '200' });
      }
      const batchDoc = (id: string) =>
        t.db.collection('win_command_batches').findOne({ _id: new Types.ObjectId(id) });
      const before = await batchDoc(done.id);

      const first = (await list(dev)).body.data.docs;
      expect(first.map((x: { summary: unknown }) => x.summary)).toEqual([
        [
          { status: 'Acknowledged', count: 1 },
          { status: 'Pending', count: 1 },
        ],
        [{ status: 'Acknowledged', count: 2 }],
      ]);
      const kept = await batchDoc(done.id);
      expect(kept?.finalSummary).toEqual([{ status: 'Acknowledged', count: 2 }]);
      // Keeping the counts is not a change of the batch.
      expect(kept?.updatedAt).toEqual(before?.updatedAt);
      expect(first[1].updatedAt).toBe(before?.updatedAt.toISOString());
      expect(await batchDoc(open.id)).not.toHaveProperty('finalSummary');

      // A later list answers from the batch document: a final status never changes, so a
      // command rewritten behind the API's back does not show.
      await setStatus(done.commands[0].cmdId, { status: 'UnexpectedError', statusCode: '500' });
      const again = (await list(dev)).body.data.docs;
      expect(again[1].summary).toEqual([{ status: 'Acknowledged', count: 2 }]);
      // One batch, read alone, counts its commands as read.
      expect((await getOne(dev, done.id)).body.data.summary).toEqual([
        { status: 'Acknowledged', count: 1 },
        { status: 'UnexpectedError', count: 1 },
      ]);
    });

    it('keeps no counts for a batch missing some of its commands', async () => {
      const dev = await addDevice(s);
      const b = await queue(dev, { commands: gets(2) });
      await setStatus(b.commands[0].cmdId, { status: 'Acknowledged', statusCode: '200' });
      await t.db.collection('win_commands').deleteOne({ cmdId: b.commands[1].cmdId });
      const docs = (await list(dev)).body.data.docs;
      expect(docs[0].summary).toEqual([{ status: 'Acknowledged', count: 1 }]);
      const doc = await t.db
        .collection('win_command_batches')
        .findOne({ _id: new Types.ObjectId(b.id) });
      expect(doc).not.toHaveProperty('finalSummary');
    });

    it('lists nothing for a device without batches, and only the device’s own batches', async () => {
      const empty = await addDevice(s);
      const res = await list(empty);
      expect(res.body.data).toEqual({
        docs: [],
        totalDocs: 0,
        limit: 20,
        page: 1,
        totalPages: 1,
        hasNextPage: false,
        hasPrevPage: false,
      });
      const own = (await list(s, '?limit=100')).body.data;
      expect(own.totalDocs).toBe(await countFor('win_command_batches', s));
      expect(own.docs.map((x: { winDeviceId: string }) => x.winDeviceId)).toEqual(
        own.docs.map(() => s.winDeviceId),
      );
      expect(own.docs.map((x: { id: string }) => x.id)).not.toEqual(
        expect.arrayContaining([b1.id]),
      );
    });
  });

  describe('GET …/commands/:winCommandId', () => {
    it("answers the POST's shape (name and summary included), with current states", async () => {
      const created = await post(s, { commands: gets(3), name: 'detail' });
      const b: Batch = created.body.data;
      await cancel(s, b.id, { cmdIds: [b.commands[1].cmdId] });
      const res = await getOne(s, b.id);
      expect(res.status).toBe(200);
      const d = res.body.data;
      expect(Object.keys(d)).toEqual(POST_KEYS);
      expect(Object.keys(created.body.data)).toEqual(POST_KEYS);
      expect(d.name).toBe('detail');
      expect(d.summary).toEqual([
        { status: 'Cancel', count: 1 },
        { status: 'Pending', count: 2 },
      ]);
      for (const key of [
        'id',
        'organizationId',
        'winEnterpriseId',
        'winDeviceId',
        'mdmUserId',
        'createdAt',
      ]) {
        expect(d[key]).toEqual(created.body.data[key]);
      }
      expect(d.commands.map((c: Cmd) => c.cmdId)).toEqual(b.commands.map((c) => c.cmdId));
      expect(d.commands.map((c: Cmd) => c.status)).toEqual(['Pending', 'Cancel', 'Pending']);
      const stored = await commandDocs(b.id);
      expect(d.commands[1].canceledAt).toBe(stored[1].canceledAt.toISOString());
      expect(d.commands[0]).toEqual(created.body.data.commands[0]);
    });

    it('answers 3001 for an unknown id, another device’s batch or another organization’s', async () => {
      const b = await queue(s, { commands: gets(1) });
      const sibling = await addDevice(s);
      const foreign = await seedDevice(t);
      expectNotFound(await getOne(s, new Types.ObjectId().toHexString()), 'Command batch');
      expectNotFound(await getOne(sibling, b.id), 'Command batch');
      expectNotFound(
        await getOne({ ...foreign, deviceId: foreign.deviceId }, b.id),
        'Command batch',
      );
      expectInvalid(await getOne(s, 'not-an-object-id'), 'winCommandId');
    });
  });

  describe('GET …/commands/:winCommandId/actions', () => {
    // Read by the tests that change nothing; a test that changes states queues its own batch.
    let b: Batch;
    let ids: string[];
    const fiveCommands = () => queue(s, { commands: gets(5, './Vendor/MSFT/Actions') });
    beforeAll(async () => {
      b = await fiveCommands();
      ids = b.commands.map((c) => c.cmdId);
    });
    const docIds = (res: { body: { data: { docs: Cmd[] } } }) =>
      res.body.data.docs.map((c) => c.cmdId);

    it("lists the batch's commands in batch order, in the POST's command shape", async () => {
      const res = await actions(s, b.id);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        docs: b.commands,
        totalDocs: 5,
        limit: 20,
        page: 1,
        totalPages: 1,
        hasNextPage: false,
        hasPrevPage: false,
      });
    });

    it('pages, and sorts by position', async () => {
      const p2 = await actions(s, b.id, '?limit=2&page=2');
      expect(docIds(p2)).toEqual(ids.slice(2, 4));
      expect(p2.body.data).toMatchObject({
        totalDocs: 5,
        totalPages: 3,
        hasNextPage: true,
        hasPrevPage: true,
      });
      const p3 = await actions(s, b.id, '?limit=2&page=3');
      expect(docIds(p3)).toEqual(ids.slice(4));
      expect(p3.body.data).toMatchObject({ hasNextPage: false, hasPrevPage: true });
      expect(docIds(await actions(s, b.id, '?sort=position:desc'))).toEqual([...ids].reverse());
      expectInvalid(await actions(s, b.id, '?sort=createdAt:asc'), 'sort');
      expectInvalid(await actions(s, b.id, '?limit=101'), 'limit');
    });

    it('filters by status, including after a cancel', async () => {
      const b = await fiveCommands();
      const ids = b.commands.map((c) => c.cmdId);
      expect(docIds(await actions(s, b.id, '?status=Pending'))).toEqual(ids);
      const res = await cancel(s, b.id, { cmdIds: [ids[1], ids[3]] });
      expect(res.status).toBe(200);
      const canceled = await actions(s, b.id, '?status=Cancel');
      expect(docIds(canceled)).toEqual([ids[1], ids[3]]);
      expect(canceled.body.data.totalDocs).toBe(2);
      const stored = await commandDocs(b.id);
      expect(canceled.body.data.docs.map((c: Cmd) => c.canceledAt)).toEqual([
        stored[1].canceledAt.toISOString(),
        stored[3].canceledAt.toISOString(),
      ]);
      const pending = await actions(s, b.id, '?status=Pending&limit=2');
      expect(docIds(pending)).toEqual([ids[0], ids[2]]);
      expect(pending.body.data).toMatchObject({ totalDocs: 3, totalPages: 2, hasNextPage: true });
      expect((await actions(s, b.id, '?status=Acknowledged')).body.data.totalDocs).toBe(0);
    });

    it('treats MalformedSyntax as an alias of CommandFormatError', async () => {
      const b = await fiveCommands();
      const ids = b.commands.map((c) => c.cmdId);
      await setStatus(ids[4], { status: 'CommandFormatError', statusCode: '400' });
      const malformed = await actions(s, b.id, '?status=MalformedSyntax');
      expect(docIds(malformed)).toEqual([ids[4]]);
      // Stored as the device's text; answered as a number.
      expect(malformed.body.data.docs[0].statusCode).toBe(400);
      expect(docIds(await actions(s, b.id, '?status=CommandFormatError'))).toEqual([ids[4]]);
    });

    it('refuses an unknown status and answers 3001 for a missing batch', async () => {
      expectInvalid(await actions(s, b.id, '?status=Done'), 'status');
      expectNotFound(await actions(s, new Types.ObjectId().toHexString()), 'Command batch');
      expectNotFound(await actions(await addDevice(s), b.id), 'Command batch');
    });
  });

  describe('POST …/commands/:winCommandId/cancel', () => {
    it('cancels every Pending command of the batch, once', async () => {
      const b = await queue(s, { commands: gets(3) });
      const ids = b.commands.map((c) => c.cmdId);
      const res = await cancel(s, b.id, {});
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: true,
        data: {
          id: b.id,
          results: ids.map((cmdId) => ({ cmdId, canceled: true, status: 'Cancel' })),
        },
      });
      const stored = await commandDocs(b.id);
      expect(stored.map((c) => c.status)).toEqual(['Cancel', 'Cancel', 'Cancel']);
      // One cancel call stamps its commands with one instant, never before the batch was queued.
      const canceledAt: Date = stored[0].canceledAt;
      expect(canceledAt).toBeInstanceOf(Date);
      expect(stored.map((c) => c.canceledAt)).toEqual([canceledAt, canceledAt, canceledAt]);
      expect(canceledAt.getTime()).toBeGreaterThanOrEqual(stored[0].queuedAt.getTime());
      expect(stored.map((c) => c.cmdId)).toEqual(ids);

      const again = await cancel(s, b.id);
      expect(again.status).toBe(200);
      expect(again.body.data.results).toEqual(
        ids.map((cmdId) => ({
          cmdId,
          canceled: false,
          status: 'Cancel',
          reason: 'already-canceled',
        })),
      );
      expect((await commandDocs(b.id)).map((c) => c.canceledAt)).toEqual(
        stored.map((c) => c.canceledAt),
      );
      const read = await getOne(s, b.id);
      expect(read.body.data.commands.map((c: Cmd) => c.canceledAt)).toEqual(
        stored.map((c) => c.canceledAt.toISOString()),
      );
    });

    it('cancels only the listed cmdIds and says why the others were not', async () => {
      const b = await queue(s, { commands: gets(4) });
      const other = await queue(s, { commands: gets(1) });
      const ids = b.commands.map((c) => c.cmdId);
      const foreignCmd = other.commands[0].cmdId;
      const res = await cancel(s, b.id, {
        cmdIds: [ids[0], 'no-such-cmd', ids[2], ids[0], foreignCmd],
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({
        id: b.id,
        results: [
          { cmdId: ids[0], canceled: true, status: 'Cancel' },
          { cmdId: 'no-such-cmd', canceled: false, status: 'NotFound', reason: 'not-found' },
          { cmdId: ids[2], canceled: true, status: 'Cancel' },
          { cmdId: foreignCmd, canceled: false, status: 'NotFound', reason: 'not-found' },
        ],
      });
      const stored = await commandDocs(b.id);
      expect(stored.map((c) => c.status)).toEqual(['Cancel', 'Pending', 'Cancel', 'Pending']);
      expect(stored[1].canceledAt).toBeNull();
      expect(stored[3].canceledAt).toBeNull();
      expect((await commandDocs(other.id))[0]).toMatchObject({
        status: 'Pending',
        canceledAt: null,
      });
    });

    it('does not cancel a command already sent or finished', async () => {
      const b = await queue(s, { commands: gets(3) });
      const ids = b.commands.map((c) => c.cmdId);
      const sentAt = new Date();
      // What delivery does (Pending → Awaiting) and what a device's 200 does (→ Acknowledged).
      await setStatus(ids[0], { status: 'Awaiting', sentAt });
      await setStatus(ids[1], {
        status: 'Acknowledged',
        statusCode: '200',
        sentAt,
        receivedAt: sentAt,
      });
      const res = await cancel(s, b.id);
      expect(res.status).toBe(200);
      expect(res.body.data.results).toEqual([
        { cmdId: ids[0], canceled: false, status: 'Awaiting', reason: 'already-sent' },
        { cmdId: ids[1], canceled: false, status: 'Acknowledged', reason: 'finished' },
        { cmdId: ids[2], canceled: true, status: 'Cancel' },
      ]);
      const stored = await commandDocs(b.id);
      expect(stored.map((c) => [c.status, c.canceledAt === null])).toEqual([
        ['Awaiting', true],
        ['Acknowledged', true],
        ['Cancel', false],
      ]);
      const single = await cancel(s, b.id, { cmdIds: [ids[0]] });
      expect(single.body.data.results).toEqual([
        { cmdId: ids[0], canceled: false, status: 'Awaiting', reason: 'already-sent' },
      ]);
    });

    it.each([
      ['an empty cmdIds', { cmdIds: [] }, 'cmdIds'],
      ['cmdIds not an array', { cmdIds: 'abc' }, 'cmdIds'],
      ['a cmdId that is not a string', { cmdIds: [1] }, 'cmdIds'],
      ['a cmdId of 129 characters', { cmdIds: ['c'.repeat(129)] }, 'cmdIds'],
      ['an unknown field', { all: true }, 'all'],
    ])('refuses %s with 400 5091 and cancels nothing', async (_l, body, field) => {
      const b = await queue(s, { commands: gets(1) });
      expectInvalid(await cancel(s, b.id, body), field);
      expect((await commandDocs(b.id))[0]).toMatchObject({ status: 'Pending', canceledAt: null });
    });

    it('answers 3001 for an unknown batch or another device’s batch, cancelling nothing', async () => {
      const b = await queue(s, { commands: gets(1) });
      expectNotFound(await cancel(s, new Types.ObjectId().toHexString(), {}), 'Command batch');
      expectNotFound(await cancel(await addDevice(s), b.id, {}), 'Command batch');
      expect((await commandDocs(b.id))[0]).toMatchObject({ status: 'Pending', canceledAt: null });
    });
  });

  describe('Idempotency-Key', () => {
    const key = () => `key-${new Types.ObjectId().toHexString()}`;

    it('returns the same batch for the same key and body, queuing nothing twice', async () => {
      const d = await addDevice(s);
      const k = key();
      const body = { commands: gets(3), name: 'idem' };
      const first = await post(d, body, k);
      expect(first.status).toBe(200);
      const second = await post(d, body, k);
      expect(second.status).toBe(200);
      expect(second.body.data.id).toBe(first.body.data.id);
      expect(second.body.data.commands.map((c: Cmd) => c.cmdId)).toEqual(
        first.body.data.commands.map((c: Cmd) => c.cmdId),
      );
      expect(await countFor('win_command_batches', d)).toBe(1);
      expect(await countFor('win_commands', d)).toBe(3);

      // A replay answers the batch as it is now.
      await cancel(d, first.body.data.id, {});
      const third = await post(d, body, k);
      expect(third.body.data.id).toBe(first.body.data.id);
      expect(third.body.data.commands.map((c: Cmd) => c.status)).toEqual([
        'Cancel',
        'Cancel',
        'Cancel',
      ]);
      expect(await countFor('win_commands', d)).toBe(3);

      // Without a key, the same body is a new batch.
      await post(d, body);
      await post(d, body);
      expect(await countFor('win_command_batches', d)).toBe(3);
    });

    it('refuses the same key with another body (409 4009), storing nothing', async () => {
      const d = await addDevice(s);
      const k = key();
      expect((await post(d, { commands: gets(1) }, k)).status).toBe(200);
      const other = await post(d, { commands: gets(2) }, k);
      expectConflict(other, 'Idempotency-Key was already used with a different request body');
      expect(other.body.error.details).toEqual([
        { field: 'Idempotency-Key', message: 'reuse a key only to retry the identical request' },
      ]);
      expectConflict(
        await post(d, { commands: gets(1), name: 'renamed' }, k),
        /different request body/,
      );
      expect(await countFor('win_command_batches', d)).toBe(1);
      expect(await countFor('win_commands', d)).toBe(1);
    });

    it('keeps keys per device and per organization', async () => {
      const d1 = await addDevice(s);
      const d2 = await addDevice(s);
      const foreign = await seedDevice(t);
      const k = key();
      const body = { commands: gets(1) };
      const r1 = await post(d1, body, k);
      const r2 = await post(d2, body, k);
      const r3 = await post(foreign, body, k);
      expect([r1.status, r2.status, r3.status]).toEqual([200, 200, 200]);
      expect(new Set([r1.body.data.id, r2.body.data.id, r3.body.data.id]).size).toBe(3);
      expect(r2.body.data.winDeviceId).toBe(d2.winDeviceId);
      expect(r3.body.data.organizationId).toBe(foreign.orgId);
      for (const d of [d1, d2, foreign]) expect(await countFor('win_command_batches', d)).toBe(1);
      // A different body under the same key on another device is that device's own first use.
      expect((await post(await addDevice(s), { commands: gets(2) }, k)).status).toBe(200);
    });

    it('queues one batch for concurrent duplicate requests', async () => {
      const d = await addDevice(s);
      const k = key();
      const body = { commands: gets(4, './Vendor/MSFT/Race') };
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => post(d, body, k)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      const batchIds = new Set(results.map((r) => r.body.data.id));
      expect(batchIds.size).toBe(1);
      for (const r of results) {
        expect(r.body.data.commands.map((c: Cmd) => c.cmdId)).toEqual(
          results[0].body.data.commands.map((c: Cmd) => c.cmdId),
        );
        expect(r.body.data.commands).toHaveLength(4);
      }
      expect(await countFor('win_command_batches', d)).toBe(1);
      expect(await countFor('win_commands', d)).toBe(4);
      const docs = await commandDocs([...batchIds][0]);
      expect(docs.map((c) => c.position)).toEqual([0, 1, 2, 3]);
    });

    it('refuses a malformed key with 400 5091', async () => {
      const d = await addDevice(s);
      expectInvalid(await post(d, { commands: gets(1) }, 'has space'), 'Idempotency-Key');
      expectInvalid(await post(d, { commands: gets(1) }, 'k'.repeat(256)), 'Idempotency-Key');
      expect(await countFor('win_commands', d)).toBe(0);
      expect((await post(d, { commands: gets(1) }, 'k'.repeat(255))).status).toBe(200);
    });
  });
});
