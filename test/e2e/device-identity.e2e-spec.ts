import { request as httpsRequest } from 'node:https';
import { Types } from 'mongoose';
import { bearer, startTestApp, TestApp } from '../support/app';
import { makeDeviceCredentials } from '../support/device-certs';
import { seedDevice } from '../support/seed';
import {
  deviceMessage,
  managedDevice,
  openingCommands,
  queue,
  rawPost,
  readBatch,
  simulate,
  storedState,
} from '../support/syncml-device';

const devicesUrl = (slug: string) => `/v1/organizations/${slug}/mdm/windows/enterprise/devices`;

function httpsGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('device identity: one certificate per device, the device listener, stale locks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename);
  });
  afterAll(() => t.close());

  it("refuses another device's certificate, in the same tenant and in another one (409)", async () => {
    const a = await managedDevice(t);
    const other = await seedDevice(t);
    const sameOrg = await t.http
      .post(devicesUrl(a.slug))
      .set(bearer(a.token))
      .send({ deviceId: 'SECOND', certificate: a.creds.certPem });
    expect([sameOrg.status, sameOrg.body.error?.code]).toEqual([409, 4009]);
    const create = await t.http
      .post(devicesUrl(other.slug))
      .set(bearer(other.token))
      .send({ deviceId: a.deviceId, certificate: a.creds.certPem });
    expect([create.status, create.body.error?.code]).toEqual([409, 4009]);
    const patch = await t.http
      .patch(`${devicesUrl(other.slug)}/${other.deviceId}`)
      .set(bearer(other.token))
      .send({ certificate: a.creds.certPem });
    expect([patch.status, patch.body.error?.code]).toEqual([409, 4009]);
    // Nothing of the refused requests stayed behind: the certificate still opens A's session.
    expect(
      await t.db
        .collection('win_devices')
        .countDocuments({ certificateThumbprint: a.creds.thumbprint }),
    ).toBe(1);
    const b = await queue(t, a, [{ path: './DevInfo/Man', action: 'Get', format: 'chr' }]);
    const sim = simulate(t, a);
    try {
      await sim.runSession();
    } finally {
      sim.close();
    }
    expect((await readBatch(t, a, b.id)).commands[0].status).toBe('Acknowledged');
  });

  it('frees the old certificate when a device gets a new one', async () => {
    const a = await managedDevice(t);
    const fresh = await makeDeviceCredentials(a.deviceId);
    const r = await t.http
      .patch(`${devicesUrl(a.slug)}/${a.deviceId}`)
      .set(bearer(a.token))
      .send({ certificate: fresh.certPem });
    expect(r.status).toBe(200);
    const again = await t.http
      .post(devicesUrl(a.slug))
      .set(bearer(a.token))
      .send({ deviceId: 'TAKES_OLD_CERT', certificate: a.creds.certPem });
    expect(again.status).toBe(200);
  });

  it('serves only device protocols and health on the device listener', async () => {
    expect(await httpsGet(`${t.deviceBaseUrl}/health`)).toBe(200);
    expect(await httpsGet(`${t.deviceBaseUrl}/docs-json`)).toBe(404);
    expect(await httpsGet(`${t.deviceBaseUrl}/v1/organizations/x`)).toBe(404);
    expect(await httpsGet(`${t.deviceBaseUrl}/EnrollmentServer/Discovery.svc`)).toBe(200);
  });

  it('answers the device protocols on the device listener only: 404 on the admin port', async () => {
    const a = await managedDevice(t);
    const b = await queue(t, a, [{ path: './DevInfo/Man', action: 'Get', format: 'chr' }]);
    const before = await storedState(t, a.winDeviceId);
    const msg = deviceMessage({
      deviceId: a.deviceId,
      sessionId: '1',
      msgId: 1,
      commands: openingCommands(a.deviceId),
    });
    for (const path of [
      '/ManagementServer/MDM.svc',
      '/managementserver/mdm.svc?mode=Maintenance',
      '/EnrollmentServer/Discovery.svc',
      '/EnrollmentServer/Policy.svc',
      '/EnrollmentServer/Enrollment.svc',
      '/ENROLLMENTSERVER/discovery.svc',
    ]) {
      const post = await t.http
        .post(path)
        .set('Content-Type', 'application/vnd.syncml.dm+xml')
        .send(msg);
      expect([path, post.status, post.text]).toEqual([path, 404, 'Not found']);
      const get = await t.http.get(path);
      expect([path, get.status]).toEqual([path, 404]);
    }
    expect(await storedState(t, a.winDeviceId)).toEqual(before);
    expect((await readBatch(t, a, b.id)).commands[0].status).toBe('Pending');
    // The same message on the device listener is served.
    expect((await rawPost(t, a.creds, msg)).status).toBe(200);
    expect(await httpsGet(`${t.deviceBaseUrl}/EnrollmentServer/Discovery.svc`)).toBe(200);
  });

  it('refuses a DevInfo/DevId naming another device (403) and an expired registered certificate (401)', async () => {
    const a = await managedDevice(t);
    const wrong = openingCommands('SOMEBODY_ELSE');
    const res = await rawPost(
      t,
      a.creds,
      deviceMessage({ deviceId: a.deviceId, sessionId: '1', msgId: 1, commands: wrong }),
    );
    expect(res.status).toBe(403);
    const old = await makeDeviceCredentials('OLD_PC', new Date(Date.now() - 400 * 86_400_000));
    const reg = await t.http
      .post(devicesUrl(a.slug))
      .set(bearer(a.token))
      .send({ deviceId: 'OLD_PC', certificate: old.certPem });
    expect(reg.status).toBe(200);
    const expired = await rawPost(
      t,
      old,
      deviceMessage({
        deviceId: 'OLD_PC',
        sessionId: '1',
        msgId: 1,
        commands: openingCommands('OLD_PC'),
      }),
    );
    expect(expired.status).toBe(401);
  });

  it('sends again what a crashed message had taken (lock never released)', async () => {
    const a = await managedDevice(t);
    const b = await queue(t, a, [{ path: './DevInfo/Mod', action: 'Get', format: 'chr' }]);
    const cmdId = b.commands[0].cmdId;
    // The state a crash between delivery and saving the session leaves: the command Awaiting,
    // the session not knowing it, the lock held and expired.
    await t.db
      .collection('win_commands')
      .updateOne(
        { cmdId },
        { $set: { status: 'Awaiting', sentAt: new Date(), sessionRef: 'lost', attempts: 1 } },
      );
    await t.db
      .collection('win_devices')
      .updateOne(
        { _id: new Types.ObjectId(a.winDeviceId) },
        { $set: { lockToken: 'crashed', lockedUntil: new Date(Date.now() - 1000) } },
      );
    const sim = simulate(t, a);
    try {
      const s = await sim.runSession();
      expect(s.transcript.map((e) => e.cmdId)).toEqual([cmdId]);
    } finally {
      sim.close();
    }
    const c = (await readBatch(t, a, b.id)).commands[0];
    expect(c.status).toBe('Acknowledged');
  });
});
