import { Types } from 'mongoose';
import { generateMasterKey } from '../../src/pki/key-vault';
import { bearer, startTestApp, TestApp } from '../support/app';
import { seedDevice, Seeded } from '../support/seed';
import { getCmd, queue } from '../support/syncml-device';
import { Received, waitDelivery, webhookEnv, WebhookReceiver } from '../support/webhook-receiver';

async function subscribe(t: TestApp, s: Seeded, path: string, receiver: WebhookReceiver) {
  const r = await t.http
    .post(`/v1/organizations/${s.slug}/webhooks`)
    .set(bearer(s.token))
    .send({ url: receiver.url(path), events: ['*'] });
  if (r.status !== 200) throw new Error(`subscribe: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data as { id: string; secret: string };
}

const ids = (all: Received[], path: string) =>
  all.filter((r) => r.path === path).map((r) => String(r.headers['mullion-event-id']));

/** Polls the store until `done` holds (the jest timeout bounds it). */
async function until(done: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error('the store never reached the expected state');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('webhooks: durability across restarts and instances', () => {
  // Instances of one deployment share MASTER_KEY: it seals the signing secrets they all use.
  const masterKey = { MASTER_KEY: generateMasterKey() };
  let receiver: WebhookReceiver;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    for (const a of apps.splice(0)) await a.close().catch(() => undefined);
    await receiver.close();
  });

  it('relays an outbox record written before outboxDue existed (decisions.md §43)', async () => {
    const a = await startTestApp(
      __filename,
      webhookEnv(receiver, { WEBHOOK_WORKER: 'false', ...masterKey }),
    );
    const s = await seedDevice(a);
    await subscribe(a, s, '/legacy', receiver);
    const batch = await queue(a, s, [getCmd('./DevDetail/SwV')]);
    const batches = a.db.collection('win_command_batches');
    const _id = new Types.ObjectId(batch.id);
    // The layout of an earlier version: outbox and outboxAt, no outboxDue.
    await batches.updateOne({ _id }, { $unset: { outboxDue: '' } });
    expect(await batches.findOne({ _id })).toMatchObject({ outboxAt: expect.any(Date) });
    await a.close({ keepDatabase: true });

    const b = await startTestApp(__filename, webhookEnv(receiver, masterKey), { uri: a.uri });
    apps.push(b);
    const all = await receiver.waitFor((x) => ids(x, '/legacy').length >= 1);
    const event = JSON.parse(all.find((r) => r.path === '/legacy')!.body);
    expect(event).toMatchObject({ type: 'command.batch.created', data: { batchId: batch.id } });
    const store = b.db.collection('win_command_batches');
    await until(
      async () => (await store.countDocuments({ _id, outboxAt: { $exists: true } })) === 0,
    );
    expect(await store.findOne({ _id })).not.toHaveProperty('outboxDue');
  });

  it('loses no event across a restart: an outbox record and a leased delivery go on in the next app', async () => {
    // The first app never runs the worker: what it records stays in the store.
    const a = await startTestApp(
      __filename,
      webhookEnv(receiver, { WEBHOOK_WORKER: 'false', ...masterKey }),
    );
    const s = await seedDevice(a);
    const sub = await subscribe(a, s, '/restart', receiver);
    const batch = await queue(a, s, [getCmd('./DevDetail/SwV')]);
    const stored = await a.db
      .collection('win_command_batches')
      .findOne({ _id: new Types.ObjectId(batch.id) });
    expect(stored!.outbox).toEqual([expect.objectContaining({ type: 'command.batch.created' })]);
    // A ping's delivery, held by an instance that died mid-send: its lease must run out first.
    const ping = await a.http
      .post(`/v1/organizations/${s.slug}/webhooks/${sub.id}/test`)
      .set(bearer(s.token));
    const leaseUntil = new Date(Date.now() + 1500);
    await a.db
      .collection('webhook_deliveries')
      .updateOne({ _id: ping.body.data.id }, { $set: { leaseOwner: 'dead-instance', leaseUntil } });
    await a.close({ keepDatabase: true });

    const b = await startTestApp(__filename, webhookEnv(receiver, masterKey), { uri: a.uri });
    apps.push(b);
    const all = await receiver.waitFor((x) => ids(x, '/restart').length >= 2);
    const events = all.filter((r) => r.path === '/restart').map((r) => JSON.parse(r.body));
    expect(events.map((e) => e.type).sort()).toEqual(['command.batch.created', 'ping']);
    expect(events.find((e) => e.type === 'command.batch.created').data.batchId).toBe(batch.id);
    // Not before the dead instance's lease ran out (both times are the server's).
    const store = b.db.collection('webhook_deliveries');
    await until(
      async () =>
        (await store.countDocuments({ _id: ping.body.data.id, status: 'delivered' })) === 1,
    );
    const delivery = await store.findOne({ _id: ping.body.data.id });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, leaseOwner: null });
    expect(delivery!.lastAttemptAt.getTime()).toBeGreaterThanOrEqual(leaseUntil.getTime());
  });

  it('replays a relay pass that crashed before clearing its records without sending twice', async () => {
    const t = apps[0];
    const s = await seedDevice(t);
    await subscribe(t, s, '/replay', receiver);
    const batch = await queue(t, s, [getCmd('./DevDetail/SwV')]);
    const first = await receiver.waitFor((x) => ids(x, '/replay').length === 1);
    const eventId = ids(first, '/replay')[0];
    // As if the relay had stored the deliveries and died before clearing the record.
    const k = eventId.slice(`evt_${batch.id}_`.length);
    const batches = t.db.collection('win_command_batches');
    const at = new Date();
    await batches.updateOne({ _id: new Types.ObjectId(batch.id) }, {
      $push: { outbox: { k, type: 'command.batch.created', at } },
      $set: { outboxAt: at, outboxDue: true },
    } as never);
    await until(async () => (await batches.countDocuments({ outboxAt: { $exists: true } })) === 0);
    // The relay stores deliveries before it clears records: nothing new was queued for it.
    const deliveries = t.db.collection('webhook_deliveries');
    expect(await deliveries.countDocuments({ eventId })).toBe(1);
    const sub = await t.db
      .collection('webhook_subscriptions')
      .findOne({ url: receiver.url('/replay') });
    await t.http
      .post(`/v1/organizations/${s.slug}/webhooks/${String(sub!._id)}/test`)
      .set(bearer(s.token));
    const after = await receiver.waitFor((x) => ids(x, '/replay').length === 2);
    expect(ids(after, '/replay')[0]).toBe(eventId);
    expect(ids(after, '/replay')[1]).toMatch(/^evt_ping_/);
  });

  it('shares the work between two instances on one store: every event arrives, ids unique', async () => {
    const b = apps[0];
    const c = await startTestApp(__filename, webhookEnv(receiver, masterKey), { uri: b.uri });
    apps.push(c);
    const s = await seedDevice(b);
    await subscribe(b, s, '/shared', receiver);
    const batches = [];
    for (let i = 0; i < 10; i++)
      batches.push(await queue(i % 2 ? b : c, s, [getCmd(`./Vendor/MSFT/T/${i}`)]));
    const all = await receiver.waitFor((x) => new Set(ids(x, '/shared')).size === batches.length);
    const got = all.filter((r) => r.path === '/shared').map((r) => JSON.parse(r.body));
    expect(new Set(got.map((e) => e.data.batchId))).toEqual(new Set(batches.map((x) => x.id)));
    // At-least-once: the embedded FerretDB applies conditional updates non-atomically across
    // connections, so two instances may both win a claim; the event id is what dedupes.
    const unique = new Set(got.map((e) => e.id));
    expect(unique.size).toBe(batches.length);
    const deliveries = await b.db
      .collection('webhook_deliveries')
      .find({ eventType: 'command.batch.created', organizationId: { $exists: true } })
      .toArray();
    const mine = deliveries.filter((d) =>
      got.some((e) => String(d._id) === `${e.id}:${String(d.subscriptionId)}`),
    );
    expect(mine).toHaveLength(batches.length);
    await until(
      async () =>
        (await b.db
          .collection('webhook_deliveries')
          .countDocuments({ _id: { $in: mine.map((d) => d._id) }, status: 'delivered' })) ===
        batches.length,
    );
  });
});

describe('webhooks: addresses and failing receivers', () => {
  let receiver: WebhookReceiver;
  let t: TestApp;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await startTestApp(
      __filename,
      webhookEnv(receiver, {
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'false',
        WEBHOOK_DISABLE_AFTER_SECONDS: '1',
      }),
    );
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('refuses loopback, private, link-local and unspecified addresses when not allowed', async () => {
    const s = await seedDevice(t);
    for (const url of [
      receiver.url(),
      'https://localhost/hook',
      'https://[::1]/hook',
      'https://10.1.2.3/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest',
      'https://0.0.0.0/hook',
      'https://[::ffff:127.0.0.1]/hook',
    ]) {
      const r = await t.http
        .post(`/v1/organizations/${s.slug}/webhooks`)
        .set(bearer(s.token))
        .send({ url, events: ['*'] });
      expect({ url, status: r.status, code: r.body.error?.code }).toEqual({
        url,
        status: 400,
        code: 5091,
      });
      expect(r.body.error.details[0].message).toMatch(
        /loopback, private, link-local or reserved address/,
      );
    }
  });

  it('checks the address again at send time, and disables a subscription that keeps failing', async () => {
    const s = await seedDevice(t);
    // A public address passes at creation; then its name "moves" to loopback (DNS rebinding).
    const created = await t.http
      .post(`/v1/organizations/${s.slug}/webhooks`)
      .set(bearer(s.token))
      .send({ url: 'https://203.0.113.10/hook', events: ['*'] });
    expect(created.status).toBe(200);
    const id = created.body.data.id as string;
    await t.db
      .collection('webhook_subscriptions')
      .updateOne({ url: 'https://203.0.113.10/hook' }, { $set: { url: receiver.url('/rebound') } });
    await t.http.post(`/v1/organizations/${s.slug}/webhooks/${id}/test`).set(bearer(s.token));
    const failed = await waitDelivery(t, s, id, (d) => d.attempts >= 1);
    expect(failed.lastError).toMatch(/resolves to 127\.0\.0\.1, a loopback, private/);
    // Failing for longer than WEBHOOK_DISABLE_AFTER_SECONDS (1 s): disabled, saying why.
    const base = `/v1/organizations/${s.slug}/webhooks/${id}`;
    let sub2: { active: boolean; disabledReason: string | null } = {
      active: true,
      disabledReason: null,
    };
    const deadline = performance.now() + 20_000;
    while (sub2.active && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      sub2 = (await t.http.get(base).set(bearer(s.token))).body.data;
    }
    expect(sub2.disabledReason).toMatch(
      /^every delivery failed since .+ \(last: 127\.0\.0\.1 resolves/,
    );
    expect(receiver.received).toEqual([]);
    // A ping still goes to a disabled subscription (to test it before re-enabling it); events
    // of the organization no longer do.
    const deliveries = await t.http.get(`${base}/deliveries`).set(bearer(s.token));
    expect(deliveries.body.data.docs).toEqual([
      expect.objectContaining({ eventType: 'ping', status: 'pending' }),
    ]);
    expect(deliveries.body.data.docs[0].attempts).toBeGreaterThanOrEqual(2);
  });
});
