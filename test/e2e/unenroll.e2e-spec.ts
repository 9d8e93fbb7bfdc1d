import { EventEmitter2 } from '@nestjs/event-emitter';
import { Types } from 'mongoose';
import { DeviceCheckinService } from '../../src/devices/device-checkin.service';
import { PushService } from '../../src/push/push.service';
import { SimulatorError, unenrollmentAlert } from '../../tools/simulator';
import { bearer, startTestApp, TestApp } from '../support/app';
import { FakeWns } from '../support/fake-wns';
import { seedDevice } from '../support/seed';
import {
  getCmd,
  managedDevice,
  Managed,
  queue,
  readBatch,
  readDevice,
  simulate,
} from '../support/syncml-device';

const PROVIDER = 'mullion';
const UNENROLL_NODE = `./Vendor/MSFT/DMClient/Provider/${PROVIDER}/Unenroll`;
const unenrollUrl = (d: { slug: string; deviceId: string }) =>
  `/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}/unenroll`;

describe('Administrator unenroll that reaches the PC', () => {
  let t: TestApp;
  let wns: FakeWns;

  beforeAll(async () => {
    wns = await new FakeWns().start();
    t = await startTestApp(__filename, {
      WNS_PACKAGE_SID: 'ms-app://S-1-15-2-1-2-3-4-5-6-7',
      WNS_CLIENT_SECRET: 'secret-for-unenroll-tests',
      WNS_TOKEN_URL: wns.tokenUrl,
      WNS_EXTRA_CHANNEL_ORIGINS: wns.origin,
      WNS_RETRY_DELAYS_MS: '10',
      UNENROLL_TIMEOUT_SECONDS: '3600',
    });
  });
  afterAll(async () => {
    await t.app.get(PushService).settle();
    await t.close();
    await wns.close();
  });

  const unenroll = async (d: Managed) => {
    const r = await t.http.post(unenrollUrl(d)).set(bearer(d.token)).send();
    expect(r.status).toBe(200);
    return r.body.data as Record<string, unknown>;
  };
  const binding = (d: Managed) =>
    t.db.collection('device_certificates').findOne({ winDeviceId: d.winDeviceId });

  it('unenrolling → the next session carries the Unenroll Exec → Status 200 → unenrolled, certificate refused', async () => {
    const d = await managedDevice(t);
    const pending = await queue(t, d, [getCmd('./DevDetail/SwV')]);
    const before = Date.now();
    const view = await unenroll(d);
    expect(view).toMatchObject({ status: 'unenrolling', unenrollRequestedAt: expect.any(String) });
    const deadline = new Date(view.unenrollDeadline as string).getTime();
    expect(deadline - new Date(view.unenrollRequestedAt as string).getTime()).toBe(3600_000);
    expect(deadline).toBeGreaterThanOrEqual(before + 3600_000);
    // Other Pending commands are cancelled as before; new ones are refused.
    expect((await readBatch(t, d, pending.id)).commands[0].status).toBe('Cancel');
    const refused = await t.http
      .post(`${unenrollUrl(d).replace(/unenroll$/, 'commands')}`)
      .set(bearer(d.token))
      .send({ commands: [{ config: getCmd('./DevDetail/SwV') }] });
    expect(refused.body.error.code).toBe(5142);
    // Idempotent while it waits for the PC.
    expect((await unenroll(d)).status).toBe('unenrolling');
    expect(await binding(d)).not.toBeNull();

    const pc = simulate(t, d);
    const last = await pc.runSession();
    expect(last.transcript).toEqual([
      expect.objectContaining({
        verb: 'Exec',
        target: UNENROLL_NODE,
        format: 'chr',
        data: PROVIDER,
        answeredStatus: '200',
      }),
    ]);
    expect(pc.unenrolled).toBe(true);
    expect(await readDevice(t, d)).toMatchObject({
      status: 'unenrolled',
      unenrolledAt: expect.any(String),
    });
    expect(await binding(d)).toBeNull();
    const err = await simulate(t, d)
      .runSession()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorError);
    expect((err as SimulatorError).httpStatus).toBe(401);
  });

  it('a PC that answers with the 1226 unenroll alert instead is unenrolled too', async () => {
    const d = await managedDevice(t);
    await unenroll(d);
    // Windows may not answer the Exec itself (enrollment.md §10): here it fails it…
    const pc = simulate(t, d, { behaviour: { execStatus: '500' } });
    const first = await pc.runSession();
    expect(first.transcript.map((e) => [e.verb, e.target])).toEqual([['Exec', UNENROLL_NODE]]);
    expect((await readDevice(t, d)).status).toBe('unenrolling');
    // …and reports the unenrollment in a last session.
    const last = await pc.runSession({ extraAlerts: [unenrollmentAlert()] });
    expect(last.transcript).toEqual([]);
    expect((await readDevice(t, d)).status).toBe('unenrolled');
    expect(await binding(d)).toBeNull();
  });

  it('a PC that never checks in is unenrolled at the timeout (read lazily), and one that comes back late is refused', async () => {
    const silent = await managedDevice(t);
    const late = await managedDevice(t, silent);
    await unenroll(silent);
    await unenroll(late);
    // The deadline passes (the clock is not ours to move: the stored deadline is).
    await t.db
      .collection('win_devices')
      .updateMany(
        { _id: { $in: [silent, late].map((d) => new Types.ObjectId(d.winDeviceId)) } },
        { $set: { unenrollDeadline: new Date(Date.now() - 1000) } },
      );
    expect(await readDevice(t, silent)).toMatchObject({ status: 'unenrolled' });
    expect(await binding(silent)).toBeNull();

    const err = await simulate(t, late)
      .runSession()
      .catch((e: unknown) => e);
    expect((err as SimulatorError).httpStatus).toBe(401);
    expect(await readDevice(t, late)).toMatchObject({ status: 'unenrolled' });
    expect(await binding(late)).toBeNull();
  });

  it('a listing shows unenrolling devices, and those past their deadline as unenrolled', async () => {
    const d = await managedDevice(t);
    const waiting = await managedDevice(t, d);
    await unenroll(d);
    await unenroll(waiting);
    await t.db
      .collection('win_devices')
      .updateOne(
        { _id: new Types.ObjectId(d.winDeviceId) },
        { $set: { unenrollDeadline: new Date(Date.now() - 1000) } },
      );
    const list = await t.http
      .get(`/v1/organizations/${d.slug}/mdm/windows/enterprise/devices?status=unenrolling`)
      .set(bearer(d.token));
    expect(list.status).toBe(200);
    expect(list.body.data.docs.map((x: { deviceId: string }) => x.deviceId)).toEqual([
      waiting.deviceId,
    ]);
  });

  it('a device without a certificate has nothing to tell: unenrolled at once', async () => {
    const s = await seedDevice(t);
    const r = await t.http.post(unenrollUrl(s)).set(bearer(s.token)).send();
    expect(r.body.data).toMatchObject({ status: 'unenrolled', unenrolledAt: expect.any(String) });
  });

  it('wakes a PC with a push channel so it hears of the unenroll at once', async () => {
    const d = await managedDevice(t);
    await simulate(t, d, {
      push: { providerId: PROVIDER, channelUri: wns.channelUri('unenroll-1') },
    }).runSession();
    await t.app.get(PushService).settle();
    wns.reset();
    await unenroll(d);
    await wns.waitForPushes(1);
    expect(wns.pushes.map((p) => [p.path, p.status])).toEqual([['/channel/unenroll-1', 200]]);
  });

  it('a PC that leaves on its own (alert 1226) loses its certificate binding, and a repeated alert changes and announces nothing', async () => {
    const d = await managedDevice(t);
    expect(await binding(d)).not.toBeNull();
    const announced: unknown[] = [];
    const listener = (payload: unknown) => announced.push(payload);
    const emitter = t.app.get(EventEmitter2);
    emitter.on('device.unenrolled', listener);
    try {
      await simulate(t, d).runSession({ extraAlerts: [unenrollmentAlert()] });
      const gone = await readDevice(t, d);
      expect(gone.status).toBe('unenrolled');
      expect(await binding(d)).toBeNull();
      expect(announced).toEqual([expect.objectContaining({ reason: 'device-request' })]);

      // The same alert again (a resent message): the certificate is refused before any alert is
      // read, so it is replayed at the service a session would call.
      await t.app
        .get(DeviceCheckinService)
        .unenrollOnRequest(d.orgId, d.winDeviceId, new Date(Date.now() + 60_000));
      expect(announced).toHaveLength(1);
      expect(await readDevice(t, d)).toEqual(gone);
    } finally {
      emitter.off('device.unenrolled', listener);
    }
  });
});
