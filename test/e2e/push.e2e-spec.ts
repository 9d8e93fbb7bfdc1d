import { PushService } from '../../src/push/push.service';
import { bearer, startTestApp, TestApp } from '../support/app';
import { FakeWns } from '../support/fake-wns';
import { commandsUrl } from '../support/seed';
import {
  getCmd,
  managedDevice,
  Managed,
  queue,
  readDevice,
  simulate,
} from '../support/syncml-device';

const PROVIDER = 'mullion';
const CHANNEL_URI_NODE = `./Vendor/MSFT/DMClient/Provider/${PROVIDER}/Push/ChannelURI`;
const PACKAGE_SID = 'ms-app://S-1-15-2-1111111111-2222222222-3333333333-4444444444';
const SECRET = 'wns-client-secret-for-tests';
const deviceUrl = (d: Managed) =>
  `/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}`;
const enterpriseUrl = (d: Managed) => `/v1/organizations/${d.slug}/mdm/windows/enterprise`;

function pushEnv(wns: FakeWns): Record<string, string> {
  return {
    WNS_PACKAGE_SID: PACKAGE_SID,
    WNS_CLIENT_SECRET: SECRET,
    WNS_TOKEN_URL: wns.tokenUrl,
    WNS_EXTRA_CHANNEL_ORIGINS: wns.origin,
    WNS_PFN: 'Contoso.Mdm_8wekyb3d8bbwe',
    WNS_RETRY_DELAYS_MS: '10,20,40',
  };
}

/** A device that reported `channel` to the server (one session: the server Gets it). */
async function deviceWithChannel(t: TestApp, wns: FakeWns, channel: string): Promise<Managed> {
  const d = await managedDevice(t);
  await simulate(t, d, {
    push: { providerId: PROVIDER, channelUri: wns.channelUri(channel) },
  }).runSession();
  return d;
}

describe('Push wake-up (WNS) against a fake WNS on loopback', () => {
  let t: TestApp;
  let wns: FakeWns;

  beforeAll(async () => {
    wns = await new FakeWns().start();
    t = await startTestApp(__filename, pushEnv(wns));
  });
  afterAll(async () => {
    await t.app.get(PushService).settle();
    await t.close();
    await wns.close();
  });
  beforeEach(async () => {
    await t.app.get(PushService).settle();
    wns.reset();
  });

  it('reads the channel URI with a Get at session start and stores it with Push/Status', async () => {
    const d = await managedDevice(t);
    const sim = simulate(t, d, {
      push: { providerId: PROVIDER, channelUri: wns.channelUri('read-1') },
    });
    const first = await sim.runSession();
    const gets = first.transcript.filter((e) => e.verb === 'Get');
    expect(gets.map((g) => g.target)).toEqual([
      CHANNEL_URI_NODE,
      `./Vendor/MSFT/DMClient/Provider/${PROVIDER}/Push/Status`,
    ]);
    const device = await readDevice(t, d);
    expect(device.push).toEqual({
      channelUri: wns.channelUri('read-1'),
      status: '0',
      readAt: expect.any(String),
    });
    // Read again only after WNS_CHANNEL_REFRESH_SECONDS: the next session has no Get.
    const second = await sim.runSession();
    expect(second.transcript.filter((e) => e.verb === 'Get')).toEqual([]);
  });

  it('wakes the device on enqueue: one token request (then cached) and raw pushes with the exact headers', async () => {
    const d = await deviceWithChannel(t, wns, 'enqueue-1');
    await queue(t, d, [getCmd('./DevDetail/SwV')]);
    await wns.waitForPushes(1);
    await queue(t, d, [getCmd('./DevDetail/OEM')]);
    await wns.waitForPushes(2);

    expect(wns.tokenRequests).toHaveLength(1);
    const token = wns.tokenRequests[0];
    expect(token.method).toBe('POST');
    expect(token.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(token.body.toString('utf8')))).toEqual({
      grant_type: 'client_credentials',
      client_id: PACKAGE_SID,
      client_secret: SECRET,
      scope: 'notify.windows.com',
    });

    expect(wns.pushes.map((p) => [p.method, p.path, p.status])).toEqual([
      ['POST', '/channel/enqueue-1', 200],
      ['POST', '/channel/enqueue-1', 200],
    ]);
    for (const p of wns.pushes) {
      expect(p.headers['x-wns-type']).toBe('wns/raw');
      expect(p.headers['content-type']).toBe('application/octet-stream');
      expect(p.headers.authorization).toBe('Bearer fake-token-1');
      expect(p.body.length).toBeGreaterThan(0);
    }
  });

  it('retries a failing WNS with backoff while the enqueue answers 200 at once', async () => {
    const d = await deviceWithChannel(t, wns, 'flaky-1');
    wns.failPushes = 2;
    const r = await t.http
      .post(commandsUrl(d))
      .set(bearer(d.token))
      .send({ commands: [{ config: getCmd('./DevDetail/SwV') }] });
    expect(r.status).toBe(200);
    await wns.waitForPushes(3);
    await t.app.get(PushService).settle();
    expect(wns.pushes.map((p) => p.status)).toEqual([500, 500, 200]);
  });

  it('gives up after the configured retries (bounded), and forgets a channel WNS says is gone', async () => {
    const down = await deviceWithChannel(t, wns, 'down-1');
    wns.failPushes = 100;
    await queue(t, down, [getCmd('./DevDetail/SwV')]);
    await t.app.get(PushService).settle();
    // The first attempt and one per WNS_RETRY_DELAYS_MS entry.
    expect(wns.pushes.map((p) => p.status)).toEqual([500, 500, 500, 500]);

    wns.reset();
    const gone = await deviceWithChannel(t, wns, 'gone-1');
    wns.gone.add('gone-1');
    await queue(t, gone, [getCmd('./DevDetail/SwV')]);
    await t.app.get(PushService).settle();
    expect(wns.pushes.map((p) => p.status)).toEqual([410]);
    expect((await readDevice(t, gone)).push).not.toHaveProperty('channelUri');
    // Read again at the device's next session, not a day later.
    const next = await simulate(t, gone, {
      push: { providerId: PROVIDER, channelUri: wns.channelUri('gone-2') },
    }).runSession();
    const gets = next.transcript.filter((e) => e.verb === 'Get');
    expect(gets.map((g) => g.target)).toContain(CHANNEL_URI_NODE);
    expect((await readDevice(t, gone)).push).toMatchObject({
      channelUri: wns.channelUri('gone-2'),
    });
  });

  it('never pushes to a channel URI outside WNS (the bearer token stays with WNS)', async () => {
    const d = await managedDevice(t);
    await simulate(t, d, {
      push: { providerId: PROVIDER, channelUri: 'http://169.254.169.254/latest/meta-data' },
    }).runSession();
    const r = await t.http
      .post(`${deviceUrl(d)}/actions`)
      .set(bearer(d.token))
      .send({ action: 'wake' });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ action: { name: 'wake', params: {} }, push: 'no-channel' });
    await queue(t, d, [getCmd('./DevDetail/SwV')]);
    await t.app.get(PushService).settle();
    expect(wns.pushes).toEqual([]);
    expect(wns.tokenRequests).toEqual([]);
  });

  it('POST …/actions {action: "wake"} pushes on demand; needs mdm.windows.device.action', async () => {
    const d = await deviceWithChannel(t, wns, 'wake-1');
    const r = await t.http
      .post(`${deviceUrl(d)}/actions`)
      .set(bearer(d.token))
      .send({ action: 'wake' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: true,
      data: { action: { name: 'wake', params: {} }, push: 'requested' },
    });
    await wns.waitForPushes(1);
    expect(wns.pushes[0].path).toBe('/channel/wake-1');

    const extra = await t.http
      .post(`${deviceUrl(d)}/actions`)
      .set(bearer(d.token))
      .send({ action: 'wake', mode: 'wipe' });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatchObject({
      code: 5091,
      details: [{ field: 'mode', message: 'mode is not a field of action wake' }],
    });
    expect(wns.pushes).toHaveLength(1);

    const readOnly = t.token({ permissions: ['mdm.windows.device.get'] });
    const denied = await t.http
      .post(`${deviceUrl(d)}/actions`)
      .set(bearer(readOnly))
      .send({ action: 'wake' });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe(4003);
  });

  it('a device that never reported a channel is not pushed to', async () => {
    const d = await managedDevice(t);
    const r = await t.http
      .post(`${deviceUrl(d)}/actions`)
      .set(bearer(d.token))
      .send({ action: 'wake' });
    expect(r.body.data).toEqual({ action: { name: 'wake', params: {} }, push: 'no-channel' });
  });

  describe('poll schedule', () => {
    it('shows the defaults, and a PATCH queues the DMClient Poll values to the managed devices', async () => {
      const d = await managedDevice(t);
      const second = await managedDevice(t, d);
      const before = await t.http.get(enterpriseUrl(d)).set(bearer(d.token));
      expect(before.body.data.pollSchedule).toEqual({
        firstSet: { intervalMinutes: 15, count: 5 },
        secondSet: { intervalMinutes: 60, count: 10 },
        steadyIntervalMinutes: 1440,
        steadyCount: 0,
        pollOnLogin: true,
        allUsersPollOnFirstLogin: true,
      });

      const r = await t.http
        .patch(enterpriseUrl(d))
        .set(bearer(d.token))
        .send({
          pollSchedule: {
            firstSet: { intervalMinutes: 3, count: 5 },
            secondSet: { intervalMinutes: 15, count: 8 },
            steadyIntervalMinutes: 480,
          },
        });
      expect(r.status).toBe(200);
      expect(r.body.data.pollSchedule).toEqual({
        firstSet: { intervalMinutes: 3, count: 5 },
        secondSet: { intervalMinutes: 15, count: 8 },
        steadyIntervalMinutes: 480,
        steadyCount: 0,
        pollOnLogin: true,
        allUsersPollOnFirstLogin: true,
      });

      const poll = (parm: string) => `./Vendor/MSFT/DMClient/Provider/${PROVIDER}/Poll/${parm}`;
      const expected = [
        [poll('IntervalForFirstSetOfRetries'), '3', 'int'],
        [poll('NumberOfFirstRetries'), '5', 'int'],
        [poll('IntervalForSecondSetOfRetries'), '15', 'int'],
        [poll('NumberOfSecondRetries'), '8', 'int'],
        [poll('IntervalForRemainingScheduledRetries'), '480', 'int'],
        [poll('NumberOfRemainingScheduledRetries'), '0', 'int'],
        [poll('PollOnLogin'), 'true', 'bool'],
        [poll('AllUsersPollOnFirstLogin'), 'true', 'bool'],
      ];
      for (const dev of [d, second]) {
        const batches = await t.http.get(commandsUrl(dev)).set(bearer(d.token));
        expect(batches.body.data.docs).toHaveLength(1);
        expect(batches.body.data.docs[0].name).toBe('poll schedule');
        const batch = await t.http
          .get(`${commandsUrl(dev)}${batches.body.data.docs[0].id}`)
          .set(bearer(d.token));
        expect(
          batch.body.data.commands.map((c: { config: Record<string, string> }) => [
            c.config.action,
            c.config.path,
            c.config.value,
            c.config.format,
          ]),
        ).toEqual(expected.map(([p, v, f]) => ['Replace', p, v, f]));
      }
      // The simulated PC takes them at its next session.
      const sim = simulate(t, d);
      await sim.runSession();
      expect(sim.tree.read(poll('IntervalForFirstSetOfRetries'))).toEqual({
        kind: 'leaf',
        value: expect.objectContaining({ data: '3' }),
      });

      // The same schedule again changes nothing and queues nothing.
      await t.http
        .patch(enterpriseUrl(d))
        .set(bearer(d.token))
        .send({ pollSchedule: { steadyIntervalMinutes: 480 } });
      const again = await t.http.get(commandsUrl(second)).set(bearer(d.token));
      expect(again.body.data.docs).toHaveLength(1);
    });

    it('refuses invalid schedules with field-named 5091 errors', async () => {
      const d = await managedDevice(t);
      const bad = async (pollSchedule: unknown) => {
        const r = await t.http.patch(enterpriseUrl(d)).set(bearer(d.token)).send({ pollSchedule });
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe(5091);
        return (r.body.error.details as { field: string }[]).map((x) => x.field);
      };
      expect(await bad({ steadyIntervalMinutes: 0 })).toEqual([
        'pollSchedule.steadyIntervalMinutes',
      ]);
      expect(await bad({ firstSet: { count: -1 } })).toEqual(['pollSchedule.firstSet.count']);
      expect(await bad({ secondSet: { intervalMinutes: 'often' } })).toEqual([
        'pollSchedule.secondSet.intervalMinutes',
      ]);
      expect(await bad({ firstSet: { intervalMinutes: 0 } })).toEqual([
        'pollSchedule.firstSet.intervalMinutes',
      ]);
      expect(await bad({ every: 5 })).toEqual(['pollSchedule.every']);
      const batches = await t.http.get(commandsUrl(d)).set(bearer(d.token));
      expect(batches.body.data.docs).toEqual([]);
    });
  });
});

describe('Push without WNS credentials', () => {
  let t: TestApp;
  let wns: FakeWns;

  beforeAll(async () => {
    wns = await new FakeWns().start();
    t = await startTestApp(__filename, {
      WNS_TOKEN_URL: wns.tokenUrl,
      WNS_EXTRA_CHANNEL_ORIGINS: wns.origin,
    });
  });
  afterAll(async () => {
    await t.close();
    await wns.close();
  });

  it('is off: no channel Get, no token request, no push; commands wait for the poll', async () => {
    const d = await managedDevice(t);
    const sim = simulate(t, d, {
      push: { providerId: PROVIDER, channelUri: wns.channelUri('off-1') },
    });
    const first = await sim.runSession();
    expect(first.transcript).toEqual([]);
    const batch = await queue(t, d, [getCmd('./DevDetail/SwV')]);
    const r = await t.http
      .post(`${deviceUrl(d)}/actions`)
      .set(bearer(d.token))
      .send({ action: 'wake' });
    expect(r.body.data).toEqual({ action: { name: 'wake', params: {} }, push: 'off' });
    await t.app.get(PushService).settle();
    expect(wns.tokenRequests).toEqual([]);
    expect(wns.pushes).toEqual([]);
    // Delivered at the device's next (scheduled) session.
    const next = await sim.runSession();
    expect(next.transcript.map((e) => e.cmdId)).toEqual([`${batch.id}-0`]);
  });
});
