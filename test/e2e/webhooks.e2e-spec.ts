import { bearer, startTestApp, TestApp } from '../support/app';
import { seedDevice, Seeded } from '../support/seed';
import { getCmd, managedDevice, queue, simulate } from '../support/syncml-device';
import { unenrollmentAlert } from '../../tools/simulator';
import {
  Received,
  verifiesWith,
  waitDelivery,
  webhookEnv,
  WebhookReceiver,
} from '../support/webhook-receiver';

interface Created {
  id: string;
  secret: string;
}

async function subscribe(
  t: TestApp,
  s: Pick<Seeded, 'slug' | 'token'>,
  body: Record<string, unknown>,
): Promise<Created> {
  const r = await t.http
    .post(`/v1/organizations/${s.slug}/webhooks`)
    .set(bearer(s.token))
    .send(body);
  if (r.status !== 200) throw new Error(`subscribe: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data;
}

const eventOf = (r: Received) =>
  JSON.parse(r.body) as {
    id: string;
    type: string;
    organizationId: string;
    data: Record<string, unknown>;
  };

describe('webhooks', () => {
  let receiver: WebhookReceiver;
  let t: TestApp;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await startTestApp(__filename, webhookEnv(receiver));
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.answer = () => 200;
  });

  it('manages subscriptions: the secret is shown once and stored sealed, and permissions apply', async () => {
    const s = await seedDevice(t);
    const base = `/v1/organizations/${s.slug}/webhooks`;
    const created = await t.http
      .post(base)
      .set(bearer(s.token))
      .send({ url: receiver.url('/crud'), events: ['device.alert'], description: 'ops' });
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({
      organizationId: s.orgId,
      url: receiver.url('/crud'),
      events: ['device.alert'],
      deviceIds: [],
      active: true,
      description: 'ops',
      disabledReason: null,
    });
    const { id, secret } = created.body.data;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const stored = await t.db
      .collection('webhook_subscriptions')
      .findOne({ url: receiver.url('/crud') });
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(stored!.secretSealed).toMatch(/^v1:/);

    const got = await t.http.get(`${base}/${id}`).set(bearer(s.token));
    expect(got.status).toBe(200);
    expect(got.body.data).not.toHaveProperty('secret');
    expect(JSON.stringify(got.body)).not.toContain('secretSealed');

    const patched = await t.http
      .patch(`${base}/${id}`)
      .set(bearer(s.token))
      .send({ events: ['*'], deviceIds: [s.winDeviceId], active: false });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({
      events: ['*'],
      deviceIds: [s.winDeviceId],
      active: false,
    });

    const list = await t.http.get(`${base}?limit=1`).set(bearer(s.token));
    expect(list.status).toBe(200);
    expect(list.body.data).toMatchObject({ totalDocs: 1, limit: 1, page: 1 });
    expect(list.body.data.docs[0].id).toBe(id);

    const readOnly = t.token({ permissions: ['webhook.list', 'webhook.get'] });
    const denied = await t.http
      .post(base)
      .set(bearer(readOnly))
      .send({ url: receiver.url(), events: ['*'] });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe(4003);

    const badEvent = await t.http
      .post(base)
      .set(bearer(s.token))
      .send({ url: receiver.url(), events: ['profile.device.changed'] });
    expect(badEvent.status).toBe(400);
    expect(badEvent.body.error.code).toBe(5091);
    const plainHttp = await t.http
      .post(base)
      .set(bearer(s.token))
      .send({ url: `http://127.0.0.1:${receiver.port}/x`, events: ['*'] });
    expect(plainHttp.status).toBe(400);
    expect(plainHttp.body.error.details).toEqual([{ field: 'url', message: 'url must be https' }]);

    const other = await seedDevice(t);
    const foreign = await t.http
      .get(`/v1/organizations/${other.slug}/webhooks/${id}`)
      .set(bearer(s.token));
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toEqual({ code: 3001, message: 'Webhook not found' });

    const del = await t.http.delete(`${base}/${id}`).set(bearer(s.token));
    expect(del.status).toBe(200);
    const gone = await t.http.get(`${base}/${id}`).set(bearer(s.token));
    expect(gone.body.error.code).toBe(3001);
  });

  it('delivers command status changes from a device session, signed, with stable unique ids', async () => {
    const d = await managedDevice(t);
    const sub = await subscribe(t, d, {
      url: receiver.url('/commands'),
      events: ['command.status.changed', 'command.batch.created'],
      deviceIds: [d.winDeviceId],
    });
    const batch = await queue(t, d, [getCmd('./DevDetail/SwV')]);
    const cmdId = batch.commands[0].cmdId;
    const sim = simulate(t, d, { behaviour: { values: { './DevDetail/SwV': '10.0.26100' } } });
    const run = await sim.runSession();
    sim.close();
    expect(run.outcome).toBe('completed');

    const mine = (all: Received[]) => all.filter((r) => r.path === '/commands');
    await receiver.waitFor((all) =>
      mine(all).some(
        (r) =>
          eventOf(r).type === 'command.status.changed' && eventOf(r).data.status === 'Acknowledged',
      ),
    );
    const got = mine(receiver.received);
    for (const r of got) {
      const sig = String(r.headers['mullion-signature']);
      expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifiesWith(sig, r.body, sub.secret)).toBe(true);
      expect(verifiesWith(sig, r.body, `${sub.secret}x`)).toBe(false);
      expect(r.headers['mullion-event-id']).toBe(eventOf(r).id);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const events = got.map(eventOf);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.find((e) => e.type === 'command.batch.created')).toMatchObject({
      organizationId: d.orgId,
      data: { batchId: batch.id, winDeviceId: d.winDeviceId, commandCount: 1 },
    });
    const statuses = events
      .filter((e) => e.type === 'command.status.changed')
      .map((e) => [e.data.cmdId, e.data.status, e.data.statusCode]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        [cmdId, 'Awaiting', null],
        [cmdId, 'Acknowledged', '200'],
      ]),
    );
    // The relay cleared the records it turned into deliveries, without touching the command.
    const doc = await t.db.collection('win_commands').findOne({ cmdId });
    expect(doc!.outbox).toEqual([]);
    expect(doc).not.toHaveProperty('outboxAt');
    const list = await t.http
      .get(`/v1/organizations/${d.slug}/webhooks/${sub.id}/deliveries`)
      .set(bearer(d.token));
    expect(list.body.data.docs.length).toBeGreaterThanOrEqual(3);
    for (const x of list.body.data.docs)
      expect(x).toMatchObject({
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 200,
        nextAttemptAt: null,
      });
  });

  it('delivers a device alert, the unenrollment it causes and the cancelled queue', async () => {
    const d = await managedDevice(t);
    await subscribe(t, d, {
      url: receiver.url('/device'),
      events: ['device.alert', 'device.unenrolled', 'command.status.changed'],
    });
    const batch = await queue(t, d, [getCmd('./DevDetail/SwV')]);
    const sim = simulate(t, d);
    await sim.runSession({ extraAlerts: [unenrollmentAlert()] });
    sim.close();
    const mine = (all: Received[]) => all.filter((r) => r.path === '/device').map(eventOf);
    await receiver.waitFor((all) => mine(all).length === 3);
    const events = mine(receiver.received);
    expect(events.map((e) => e.type).sort()).toEqual([
      'command.status.changed',
      'device.alert',
      'device.unenrolled',
    ]);
    expect(events.find((e) => e.type === 'device.alert')!.data).toMatchObject({
      winDeviceId: d.winDeviceId,
      alertCode: '1226',
      type: 'com.microsoft:mdm.unenrollment.userrequest',
    });
    expect(events.find((e) => e.type === 'device.unenrolled')!.data).toMatchObject({
      winDeviceId: d.winDeviceId,
      deviceId: d.deviceId,
    });
    expect(events.find((e) => e.type === 'command.status.changed')!.data).toMatchObject({
      cmdId: batch.commands[0].cmdId,
      status: 'Cancel',
    });
    const alert = await t.db
      .collection('device_events')
      .findOne({ winDeviceId: { $exists: true }, alertCode: '1226', published: true });
    expect(alert).not.toBeNull();
  });

  it('retries a 500 with growing backoff, the same event id each time, until a 200', async () => {
    const s = await seedDevice(t);
    const sub = await subscribe(t, s, { url: receiver.url('/flaky'), events: ['*'] });
    receiver.answer = (r) =>
      r.path === '/flaky' && receiver.received.filter((x) => x.path === '/flaky').length <= 3
        ? 500
        : 200;
    const ping = await t.http
      .post(`/v1/organizations/${s.slug}/webhooks/${sub.id}/test`)
      .set(bearer(s.token));
    expect(ping.status).toBe(200);
    expect(ping.body.data).toMatchObject({ status: 'pending', attempts: 0, eventType: 'ping' });
    const all = await receiver.waitFor((x) => x.filter((r) => r.path === '/flaky').length === 4);
    const tries = all.filter((r) => r.path === '/flaky');
    expect(tries.map((r) => r.headers['mullion-delivery-attempt'])).toEqual(['1', '2', '3', '4']);
    expect(new Set(tries.map((r) => r.headers['mullion-event-id']))).toEqual(
      new Set([ping.body.data.eventId]),
    );
    expect(new Set(tries.map((r) => r.body)).size).toBe(1);
    // Equal jitter: attempt n waits at least half of base·2^(n-1) (100 ms base → 50, 100, 200).
    const gaps = tries.slice(1).map((r, i) => r.at - tries[i].at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i - 5));
    const delivery = await waitDelivery(t, s, sub.id, (x) => x.status === 'delivered');
    expect(delivery).toMatchObject({ attempts: 4, lastStatusCode: 200, lastError: null });
    const sub2 = await t.http
      .get(`/v1/organizations/${s.slug}/webhooks/${sub.id}`)
      .set(bearer(s.token));
    expect(sub2.body.data.failingSince).toBeNull();
  });

  it('times out a receiver that hangs and does not follow a redirect', async () => {
    const s = await seedDevice(t);
    const hang = await subscribe(t, s, { url: receiver.url('/hang'), events: ['*'] });
    const moved = await subscribe(t, s, { url: receiver.url('/moved'), events: ['*'] });
    receiver.answer = (r) =>
      r.path === '/hang'
        ? 'hang'
        : r.path === '/moved'
          ? { redirect: receiver.url('/target') }
          : 200;
    await t.http.post(`/v1/organizations/${s.slug}/webhooks/${hang.id}/test`).set(bearer(s.token));
    await t.http.post(`/v1/organizations/${s.slug}/webhooks/${moved.id}/test`).set(bearer(s.token));
    const timedOut = await waitDelivery(t, s, hang.id, (x) => x.attempts >= 1);
    expect(timedOut).toMatchObject({
      status: 'pending',
      lastStatusCode: null,
      lastError: 'timeout after 700 ms',
    });
    expect(timedOut.lastLatencyMs).toBeGreaterThanOrEqual(690);
    expect(timedOut.nextAttemptAt).not.toBeNull();
    const redirected = await waitDelivery(t, s, moved.id, (x) => x.attempts >= 1);
    expect(redirected).toMatchObject({
      status: 'pending',
      lastStatusCode: 302,
      lastError: 'redirect 302 not followed',
    });
    expect(receiver.received.filter((r) => r.path === '/target')).toEqual([]);
    // Stop the retries of this test.
    for (const id of [hang.id, moved.id])
      await t.http.delete(`/v1/organizations/${s.slug}/webhooks/${id}`).set(bearer(s.token));
  });

  it('signs with both secrets during a rotation grace period, then with the new one only', async () => {
    const s = await seedDevice(t);
    const sub = await subscribe(t, s, { url: receiver.url('/rotate'), events: ['*'] });
    const base = `/v1/organizations/${s.slug}/webhooks/${sub.id}`;
    const rotated = await t.http
      .post(`${base}/rotate-secret`)
      .set(bearer(s.token))
      .send({ graceSeconds: 3600 });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.data.secret as string;
    expect(fresh).not.toBe(sub.secret);
    expect(Date.parse(rotated.body.data.previousSecretExpiresAt)).toBeGreaterThan(
      Date.now() + 3500_000,
    );
    await t.http.post(`${base}/test`).set(bearer(s.token));
    const [during] = await receiver
      .waitFor((all) => all.some((r) => r.path === '/rotate'))
      .then((all) => all.filter((r) => r.path === '/rotate'));
    const sig = String(during.headers['mullion-signature']);
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifiesWith(sig, during.body, fresh)).toBe(true);
    expect(verifiesWith(sig, during.body, sub.secret)).toBe(true);

    const again = await t.http
      .post(`${base}/rotate-secret`)
      .set(bearer(s.token))
      .send({ graceSeconds: 0 });
    await t.http.post(`${base}/test`).set(bearer(s.token));
    const after = (
      await receiver.waitFor((all) => all.filter((r) => r.path === '/rotate').length === 2)
    ).filter((r) => r.path === '/rotate')[1];
    const sig2 = String(after.headers['mullion-signature']);
    expect(sig2).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifiesWith(sig2, after.body, again.body.data.secret)).toBe(true);
    expect(verifiesWith(sig2, after.body, fresh)).toBe(false);
  });

  it('retries a dead delivery on request', async () => {
    const s = await seedDevice(t);
    const sub = await subscribe(t, s, { url: receiver.url('/dead'), events: ['*'] });
    const base = `/v1/organizations/${s.slug}/webhooks/${sub.id}`;
    const ping = await t.http.post(`${base}/test`).set(bearer(s.token));
    await waitDelivery(t, s, sub.id, (x) => x.status === 'delivered');
    const retried = await t.http
      .post(`${base}/deliveries/${ping.body.data.id}/retry`)
      .set(bearer(s.token));
    expect(retried.status).toBe(200);
    expect(retried.body.data).toMatchObject({ status: 'pending', attempts: 1 });
    const twice = await receiver.waitFor(
      (all) => all.filter((r) => r.path === '/dead').length === 2,
    );
    const ids = twice.filter((r) => r.path === '/dead').map((r) => r.headers['mullion-event-id']);
    expect(ids[0]).toBe(ids[1]);
    const missing = await t.http.post(`${base}/deliveries/nope/retry`).set(bearer(s.token));
    expect(missing.body.error).toEqual({ code: 3001, message: 'Webhook delivery not found' });
  });
});
