import { bearer, startTestApp, TestApp } from '../support/app';
import {
  commandDoc,
  managedDevice,
  queue,
  readBatch,
  responseOf,
  simulate,
} from '../support/syncml-device';

const EXPIRED = 'ExpectedMessageNotReceivedInRequiredPeriodOfTime';
const LONG = (n: number) => 'v'.repeat(n);

describe('SyncML sessions: edges of delivery', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename);
  });
  afterAll(() => t.close());

  it('fails a command no message within MaxMsgSize can carry, and delivers the next one at once', async () => {
    const d = await managedDevice(t);
    // A Get cannot be split; a long value would go as a large object (syncml-large-atomic).
    const b = await queue(t, d, [
      { path: `./Vendor/MSFT/Test/${LONG(480)}`, action: 'Get', format: 'chr' },
      { path: './DevInfo/Man', action: 'Get', format: 'chr' },
    ]);
    const sim = simulate(t, d, { maxMsgSize: 900 });
    try {
      const s = await sim.runSession();
      expect(s.outcome).toBe('completed');
      expect(s.warnings).toEqual([]);
      const got = await readBatch(t, d, b.id);
      expect(got.commands.map((c) => [c.status, c.statusCode])).toEqual([
        ['RequestItemTooLong', null],
        ['Acknowledged', 200],
      ]);
      expect(s.transcript.map((e) => [e.msgId, e.target])).toEqual([['1', './DevInfo/Man']]);
      for (const x of s.exchanges)
        expect(Buffer.byteLength(x.responseBody)).toBeLessThanOrEqual(900);
    } finally {
      sim.close();
    }
  });

  it("keeps the session going for a command that fits only without package 1's statuses", async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [
      { path: './Vendor/MSFT/Test/Wide', action: 'Replace', format: 'chr', value: LONG(400) },
    ]);
    const sim = simulate(t, d, { maxMsgSize: 1200 });
    try {
      const s = await sim.runSession();
      expect(s.warnings).toEqual([]);
      // Package 2 carries the statuses and a keep-alive Get; the command follows alone.
      expect(s.transcript.map((e) => [e.verb, e.target])).toEqual([
        ['Get', './DevInfo/DevId'],
        ['Replace', './Vendor/MSFT/Test/Wide'],
      ]);
      expect(
        responseOf(s.exchanges[1])
          .commands.filter((c) => c.kind === 'Replace')
          .map((c) => c.cmdId),
      ).toEqual([b.commands[0].cmdId]);
      expect((await readBatch(t, d, b.id)).commands[0].status).toBe('Acknowledged');
      for (const x of s.exchanges)
        expect(Buffer.byteLength(x.responseBody)).toBeLessThanOrEqual(1200);
      // The keep-alive is no command of ours: nothing about it was stored.
      expect(await t.db.collection('win_commands').countDocuments({ cmdId: /^keepalive-/ })).toBe(
        0,
      );
    } finally {
      sim.close();
    }
  });

  it('does not send again a command the device reported in progress (101)', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [
      { path: './Vendor/MSFT/Test/Install', action: 'Exec', format: 'chr' },
    ]);
    const sim = simulate(t, d, { behaviour: { execStatus: '101' } });
    try {
      const s1 = await sim.runSession();
      expect(s1.transcript.map((e) => e.answeredStatus)).toEqual(['101']);
      const s2 = await sim.runSession();
      expect(s2.transcript).toEqual([]);
      const c = (await readBatch(t, d, b.id)).commands[0];
      expect([c.status, c.statusCode]).toEqual(['Awaiting', 101]);
      expect((await commandDoc(t, c.cmdId)).attempts).toBe(1);
    } finally {
      sim.close();
    }
  });

  it('holds ./User/ commands back until the enrolled user is logged on (LoginStatus)', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [
      {
        path: './User/Vendor/MSFT/Policy/Config/Start/HideShutDown',
        action: 'Replace',
        format: 'int',
        value: '1',
      },
      {
        path: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
        action: 'Replace',
        format: 'int',
        value: '0',
      },
    ]);
    const sim = simulate(t, d);
    try {
      const away = await sim.runSession({ loginStatus: 'none' });
      expect(away.transcript.map((e) => e.target)).toEqual([
        './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
      ]);
      // Idle again while nobody is logged on: still nothing for the user.
      expect((await sim.runSession({ loginStatus: 'others' })).transcript).toEqual([]);
      const home = await sim.runSession({ loginStatus: 'user' });
      expect(home.transcript.map((e) => e.target)).toEqual([
        './User/Vendor/MSFT/Policy/Config/Start/HideShutDown',
      ]);
    } finally {
      sim.close();
    }
    expect((await readBatch(t, d, b.id)).commands.map((c) => c.status)).toEqual([
      'Acknowledged',
      'Acknowledged',
    ]);
  });

  it('administrator unenrollment cancels Pending commands and expires those sent but unanswered', async () => {
    const d = await managedDevice(t);
    const sent = await queue(t, d, [
      { path: './Vendor/MSFT/Test/A', action: 'Get', format: 'chr' },
    ]);
    const sim = simulate(t, d, { dropAnswerForMessage: 1 });
    try {
      const s = await sim.runSession();
      expect(s.outcome).toBe('dropped');
    } finally {
      sim.close();
    }
    const waiting = await queue(t, d, [
      { path: './Vendor/MSFT/Test/B', action: 'Get', format: 'chr' },
    ]);
    const r = await t.http
      .post(`/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}/unenroll`)
      .set(bearer(d.token))
      .send({});
    expect(r.status).toBe(200);
    const a = (await readBatch(t, d, sent.id)).commands[0];
    expect(a.status).toBe(EXPIRED);
    const p = (await readBatch(t, d, waiting.id)).commands[0];
    expect(p.status).toBe('Cancel');
    expect(p.canceledAt).not.toBeNull();
  });

  it('lists the alerts a device raised as its events, newest first, per tenant', async () => {
    const d = await managedDevice(t);
    const alert = (data: string) => ({
      code: '1226',
      items: [
        {
          source: './Vendor/MSFT/Test/Async',
          meta: { type: 'com.example.test', format: 'chr', mark: 'informational' },
          data,
        },
      ],
    });
    const sim = simulate(t, d);
    try {
      await sim.runSession({ extraAlerts: [alert('first')] });
      await sim.runSession({ extraAlerts: [alert('second')] });
    } finally {
      sim.close();
    }
    const url = `/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}/events`;
    const res = await t.http.get(`${url}?limit=1`).set(bearer(d.token));
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ totalDocs: 2, limit: 1, page: 1, hasNextPage: true });
    expect(res.body.data.docs).toEqual([
      expect.objectContaining({
        alertCode: '1226',
        type: 'com.example.test',
        mark: 'informational',
        data: 'second',
      }),
    ]);
    const asc = await t.http.get(`${url}?sort=receivedAt:asc`).set(bearer(d.token));
    expect(asc.body.data.docs.map((e: { data: string }) => e.data)).toEqual(['first', 'second']);
    const stranger = await t.http
      .get(url)
      .set(bearer(t.token({ organizations: ['someone-else'] })));
    expect(stranger.status).toBe(404);
  });

  it('an idle check-in leaves the device updatedAt alone (locking is bookkeeping)', async () => {
    const d = await managedDevice(t);
    const sim = simulate(t, d);
    try {
      await sim.runSession();
      const before = await t.db.collection('win_devices').findOne({ deviceId: d.deviceId });
      await sim.runSession();
      const after = await t.db.collection('win_devices').findOne({ deviceId: d.deviceId });
      expect(after?.updatedAt).toEqual(before?.updatedAt);
      expect(after?.syncml.sessionId).not.toEqual(before?.syncml.sessionId);
    } finally {
      sim.close();
    }
  });
});
