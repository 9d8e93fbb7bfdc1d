import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types } from 'mongoose';
import { DeviceEnrollmentService } from '../../src/devices/device-enrollment.service';
import { issueDeviceCertificate, verifyClientCertificate } from '../../src/pki';
import { freeLoopbackPort } from '../../src/store/free-port';
import { SimulatedDevice, SimulatorError, type DeviceIdentity } from '../../tools/simulator';
import {
  enrollDevice,
  EnrollmentFaultError,
  type EnrollmentResult,
} from '../../tools/simulator/enroll';
import { renewDevice, type RenewOptions } from '../../tools/simulator/renew';
import { runSimulate } from '../../tools/simulate';
import { bearer, startTestApp, TestApp } from '../support/app';
import { uniqueSlug } from '../support/seed';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('certificate renewal (MS-WSTEP Renew) over the device listener', () => {
  let t: TestApp;
  let slug: string;
  let domain: string;
  let secret: string;
  let token: string;
  let enterpriseId: string;
  let caPem: string;
  const api = (path = '') => `/v1/organizations/${slug}/mdm/windows/enterprise${path}`;

  const enroll = (): Promise<EnrollmentResult> =>
    enrollDevice({
      server: t.deviceBaseUrl,
      email: `user@${domain}`,
      password: secret,
      insecure: true,
    });
  const renew = (identity: DeviceIdentity, via: RenewOptions['via'], over = {}) =>
    renewDevice({ server: t.deviceBaseUrl, insecure: true, identity, via, ...over });
  const session = (id: DeviceIdentity) => {
    const sim = new SimulatedDevice({
      ...id,
      serverUrl: `${t.deviceBaseUrl}/ManagementServer/MDM.svc`,
      insecure: true,
    });
    return sim.runSession().finally(() => sim.close());
  };
  const refusedStatus = (id: DeviceIdentity) =>
    session(id).then(
      () => 200,
      (e: unknown) => (e instanceof SimulatorError ? e.httpStatus : -1),
    );
  const getDevice = async (deviceId: string) => {
    const r = await t.http.get(api(`/devices/${deviceId}`)).set(bearer(token));
    expect(r.status).toBe(200);
    return r.body.data;
  };
  const queue = async (deviceId: string) => {
    const r = await t.http
      .post(api(`/devices/${deviceId}/commands`))
      .set(bearer(token))
      .send({ commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }] });
    expect(r.status).toBe(200);
    return r.body.data.id as string;
  };
  const batchStatus = async (deviceId: string, batchId: string) => {
    const r = await t.http.get(api(`/devices/${deviceId}/commands/${batchId}`)).set(bearer(token));
    return r.body.data.commands[0].status as string;
  };
  const bindings = (winDeviceId: string) =>
    t.db
      .collection('device_certificates')
      .find({ winDeviceId })
      .toArray()
      .then((docs) => docs.map((d) => String(d._id)).sort());
  const refusal = async (p: Promise<unknown>) => {
    const e = await p.then(
      () => {
        throw new Error('expected a SOAP fault');
      },
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(EnrollmentFaultError);
    return (e as EnrollmentFaultError).fault;
  };

  /**
   * Gives an enrolled device a certificate from its enterprise CA issued at `issuedAt` (one year
   * validity), the way a device enrolled back then would hold one: the clock moved, not the code.
   */
  const ageCertificate = async (enrolled: EnrollmentResult, issuedAt: Date) => {
    const devices = t.app.get(DeviceEnrollmentService);
    const enterprise = (await devices.findEnterpriseById(enterpriseId))!;
    const ca = await devices.caSigningMaterial(enterprise);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const deviceId = enrolled.identity.deviceId;
    const issued = await issueDeviceCertificate({
      ca,
      csrPublicKey: publicKey,
      deviceId,
      now: issuedAt,
      validityDays: 365,
    });
    const existing = (await devices.findEnrolledDevice(enterprise, deviceId))!;
    await devices.enrollDevice(enterprise, {
      deviceId,
      mdmUserId: existing.mdmUserId!,
      certificate: {
        thumbprint: issued.thumbprint,
        serialNumber: issued.serialNumber,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
      },
      renewalDueAt: new Date(issued.notAfter.getTime() - 42 * DAY_MS),
      enrollment: existing.enrollment!,
    });
    return {
      deviceId,
      cert: issued.certificatePem,
      key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    };
  };

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    t = await startTestApp(__filename, {
      DEVICE_PORT: String(port),
      PUBLIC_BASE_URL: `https://127.0.0.1:${port}`,
    });
    token = t.token();
    slug = uniqueSlug('renew');
    domain = `${slug}.example.com`;
    const org = await t.http
      .post('/v1/organizations')
      .set(bearer(token))
      .send({ slug, name: slug });
    expect(org.status).toBe(200);
    const ent = await t.http
      .post(api())
      .set(bearer(token))
      .send({ domains: [domain] });
    expect(ent.status).toBe(200);
    enterpriseId = ent.body.data.id;
    caPem = ent.body.data.ca.certificatePem;
    const s = await t.http.post(api('/enrollment-secret')).set(bearer(token)).send();
    secret = s.body.data.secret;
  });
  afterAll(() => t.close());

  it('configures renewal in the enrollment provisioning document (WSTEP/Renew, ROBO)', async () => {
    const enrolled = await enroll();
    expect(enrolled.provisioningDoc).toContain(
      '<characteristic type="WSTEP"><characteristic type="Renew">' +
        '<parm name="ROBOSupport" value="true" datatype="boolean"/>' +
        '<parm name="RenewPeriod" value="42" datatype="integer"/>' +
        '<parm name="RetryInterval" value="4" datatype="integer"/>',
    );
    const device = await getDevice(enrolled.identity.deviceId);
    const notAfter = new Date(device.certificate.notAfter).getTime();
    expect(new Date(device.renewal.dueAt).getTime()).toBe(notAfter - 42 * DAY_MS);
    expect(device.renewal.state).toBe('none');
  });

  it('renews over client TLS (ROBO); the old certificate works until the new one is used, then not', async () => {
    const enrolled = await enroll();
    const { deviceId } = enrolled.identity;
    const before = await getDevice(deviceId);
    const history = await queue(deviceId);
    await session(enrolled.identity);
    expect(await batchStatus(deviceId, history)).toBe('Acknowledged');

    const renewed = await renew(enrolled.identity, 'tls');
    const newCert = new X509Certificate(renewed.identity.cert);
    expect(newCert.subject).toBe(`CN=${deviceId}`);
    expect(verifyClientCertificate(newCert.raw, caPem, new Date())).toMatchObject({ ok: true });
    expect(renewed.clientThumbprint).not.toBe(enrolled.clientThumbprint);
    expect(renewed.caThumbprint).toBe(enrolled.caThumbprint);

    const pending = await getDevice(deviceId);
    expect(pending.id).toBe(before.id);
    expect(pending.certificate.thumbprint).toBe(enrolled.clientThumbprint);
    expect(pending.renewal).toMatchObject({
      state: 'renewed',
      certificate: { thumbprint: renewed.clientThumbprint },
    });
    expect(await bindings(before.id)).toEqual(
      [enrolled.clientThumbprint, renewed.clientThumbprint].sort(),
    );

    // The old certificate still opens sessions (and does not make the switch).
    const queued = await queue(deviceId);
    await session(enrolled.identity);
    expect(await batchStatus(deviceId, queued)).toBe('Acknowledged');
    expect((await getDevice(deviceId)).renewal.state).toBe('renewed');

    // First session with the new one: it becomes the certificate, the old one is released.
    const next = await queue(deviceId);
    await session(renewed.identity);
    expect(await batchStatus(deviceId, next)).toBe('Acknowledged');
    const after = await getDevice(deviceId);
    expect(after).toMatchObject({
      id: before.id,
      status: 'active',
      certificate: { thumbprint: renewed.clientThumbprint, source: 'enrollment' },
      renewal: { state: 'none' },
    });
    expect(after.renewal.certificate).toBeUndefined();
    expect(new Date(after.certificate.notAfter).getTime()).toBe(
      new Date(newCert.validTo).getTime(),
    );
    expect(await bindings(before.id)).toEqual([renewed.clientThumbprint]);
    expect(await refusedStatus(enrolled.identity)).toBe(401);
    expect(await refusedStatus(renewed.identity)).toBe(200);
    // Identity and history unchanged.
    expect(await batchStatus(deviceId, history)).toBe('Acknowledged');
    expect(await t.db.collection('win_devices').countDocuments({ deviceId })).toBe(1);
  });

  it('renews with the signed PKCS#7 alone (no client certificate in the handshake)', async () => {
    const enrolled = await enroll();
    const renewed = await renew(enrolled.identity, 'pkcs7');
    expect(renewed.identity.deviceId).toBe(enrolled.identity.deviceId);
    expect(await refusedStatus(renewed.identity)).toBe(200);
    const device = await getDevice(enrolled.identity.deviceId);
    expect(device.certificate.thumbprint).toBe(renewed.clientThumbprint);
    expect(await refusedStatus(enrolled.identity)).toBe(401);
  });

  it('renews again when the device lost the answer: the unused renewed certificate is replaced', async () => {
    const enrolled = await enroll();
    const first = await renew(enrolled.identity, 'tls');
    const second = await renew(enrolled.identity, 'tls');
    const device = await getDevice(enrolled.identity.deviceId);
    expect(device.renewal.certificate.thumbprint).toBe(second.clientThumbprint);
    expect(await bindings(device.id)).toEqual(
      [enrolled.clientThumbprint, second.clientThumbprint].sort(),
    );
    expect(await refusedStatus(first.identity)).toBe(401);
    expect(await refusedStatus(second.identity)).toBe(200);
  });

  it("refuses a renewal that names another device than the certificate's", async () => {
    const a = await enroll();
    const b = await enroll();
    for (const via of ['tls', 'pkcs7'] as const) {
      const fault = await refusal(renew(a.identity, via, { claimDeviceId: b.identity.deviceId }));
      expect(fault).toMatchObject({ subcode: 's:Authorization', errorType: 'NotEligibleToRenew' });
      expect(fault.reason).toMatch(/another device/);
    }
    for (const enrolled of [a, b]) {
      const device = await getDevice(enrolled.identity.deviceId);
      expect(device.certificate.thumbprint).toBe(enrolled.clientThumbprint);
      expect(device.renewal.state).toBe('none');
      expect(await bindings(device.id)).toEqual([enrolled.clientThumbprint]);
    }
  });

  it('refuses a PKCS#7 not signed with the key of the certificate it carries', async () => {
    const a = await enroll();
    const b = await enroll();
    const forged = { ...a.identity, key: b.identity.key };
    const fault = await refusal(renew(forged, 'pkcs7'));
    expect(fault.subcode).toBe('s:Authentication');
    expect((await getDevice(a.identity.deviceId)).renewal.state).toBe('none');
  });

  it('shows a certificate in its window as due, and renews it', async () => {
    const enrolled = await enroll();
    const aged = await ageCertificate(enrolled, new Date(Date.now() - 340 * DAY_MS));
    const due = await getDevice(aged.deviceId);
    expect(due.renewal.state).toBe('due');
    expect(new Date(due.certificate.notAfter).getTime()).toBeLessThan(Date.now() + 42 * DAY_MS);
    const renewed = await renew(aged, 'tls');
    expect((await getDevice(aged.deviceId)).renewal.state).toBe('renewed');
    expect(await refusedStatus(renewed.identity)).toBe(200);
    expect((await getDevice(aged.deviceId)).renewal.state).toBe('none');
  });

  it('refuses to renew an expired certificate', async () => {
    const enrolled = await enroll();
    const expired = await ageCertificate(enrolled, new Date(Date.now() - 400 * DAY_MS));
    expect((await getDevice(expired.deviceId)).renewal.state).toBe('expired');
    for (const via of ['tls', 'pkcs7'] as const) {
      const fault = await refusal(renew(expired, via));
      expect(fault).toMatchObject({ subcode: 's:Authorization', errorType: 'NotEligibleToRenew' });
      expect(fault.reason).toMatch(/expired/);
    }
    const device = await getDevice(expired.deviceId);
    expect(device.renewal.state).toBe('expired');
    expect(await bindings(device.id)).toHaveLength(1);
  });

  it('refuses to renew for an unenrolled device', async () => {
    const enrolled = await enroll();
    const { deviceId } = enrolled.identity;
    const r = await t.http
      .post(api(`/devices/${deviceId}/unenroll`))
      .set(bearer(token))
      .send();
    expect(r.status).toBe(200);
    for (const via of ['tls', 'pkcs7'] as const) {
      const fault = await refusal(renew(enrolled.identity, via));
      expect(fault).toMatchObject({ subcode: 's:Authorization', errorType: 'NotEligibleToRenew' });
      expect(fault.reason).toMatch(/unenrolled/);
    }
    const stored = await t.db
      .collection('win_devices')
      .findOne({ _id: new Types.ObjectId((await getDevice(deviceId)).id) });
    // The administrator's unenroll waits for the PC to confirm (it was told in no session yet).
    expect(stored?.status).toBe('unenrolling');
    expect(stored?.renewalThumbprint).toBeUndefined();
  });

  it('simulate --renew renews the stored identity and runs a session with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mullion-renew-cli-'));
    const out: string[] = [];
    const io = { out: (x: string) => out.push(x), err: (x: string) => out.push(x) };
    try {
      const common = ['--server', t.deviceBaseUrl, '--insecure'];
      const device = 'RENEWCLI0001';
      expect(
        await runSimulate(
          ['--enroll', ...common, '--email', `cli@${domain}`, '--secret', secret].concat([
            '--device',
            device,
            '--out',
            dir,
            '--no-session',
          ]),
          io,
        ),
      ).toBe(0);
      const before = readFileSync(join(dir, `${device}.crt`), 'utf8');
      expect(
        await runSimulate(['--renew', ...common, '--device', device, '--cert-dir', dir], io),
      ).toBe(0);
      const after = readFileSync(join(dir, `${device}.crt`), 'utf8');
      expect(after).not.toBe(before);
      expect(readFileSync(join(dir, `${device}.crt.old`), 'utf8')).toBe(before);
      const stored = await getDevice(device);
      expect(stored.certificate.thumbprint).toBe(
        new X509Certificate(after).fingerprint.replace(/:/g, ''),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
