import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { Types } from 'mongoose';
import { APP_CONFIG, AppConfig } from '../../src/config/app-config';
import { issueDeviceCertificate, openPrivateKey, verifyClientCertificate } from '../../src/pki';
import { freeLoopbackPort } from '../../src/store/free-port';
import { SimulatedDevice, SimulatorError, type DeviceIdentity } from '../../tools/simulator';
import {
  createDeviceCsr,
  enrollDevice,
  EnrollmentFaultError,
  generateDeviceKey,
  randomHwDevId,
  type EnrollOptions,
} from '../../tools/simulator/enroll';
import {
  discoverRequest,
  getPoliciesRequest,
  newMessageId,
  readFault,
  rstRequest,
  windowsContext,
} from '../../tools/simulator/enroll-messages';
import { runSimulate } from '../../tools/simulate';
import { bearer, startTestApp, TestApp } from '../support/app';
import { makeDeviceCredentials } from '../support/device-certs';
import { uniqueDeviceId, uniqueSlug } from '../support/seed';

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function rawPost(
  t: TestApp,
  path: string,
  body: string | Buffer,
  method = 'POST',
  headers: Record<string, string> = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${t.deviceBaseUrl}${path}`,
      {
        method,
        rejectUnauthorized: false,
        headers: {
          ...headers,
          ...(method === 'POST' && { 'Content-Type': 'application/soap+xml; charset=utf-8' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every enrollment answer: one piece with an exact Content-Length (enrollment.md §1). */
function expectFramed(r: RawReply): void {
  expect(r.headers['transfer-encoding']).toBeUndefined();
  expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.body, 'utf8'));
}

async function expectFault(
  p: Promise<unknown>,
  subcode: string,
  step?: string,
): Promise<EnrollmentFaultError> {
  const e = await p.then(
    () => {
      throw new Error(`expected a ${subcode} fault`);
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EnrollmentFaultError);
  const f = e as EnrollmentFaultError;
  expect(f.fault.subcode).toBe(subcode);
  if (step) expect(f.step).toBe(step);
  expect(f.exchange.status).toBe(500);
  expect(f.fault.traceId).toEqual(expect.any(String));
  return f;
}

const ENROLLMENT_URL = '/EnrollmentServer/Enrollment.svc';

describe('MS-MDE2 enrollment over the device listener', () => {
  let t: TestApp;
  let slug: string;
  let domain: string;
  let secret: string;
  let token: string;
  let enterpriseId: string;
  let orgId: string;
  let caPem: string;
  const api = (path = '') => `/v1/organizations/${slug}/mdm/windows/enterprise${path}`;
  const enrollOpts = (over: Partial<EnrollOptions> = {}): EnrollOptions => ({
    server: t.deviceBaseUrl,
    email: `user@${domain}`,
    password: secret,
    insecure: true,
    ...over,
  });
  const deviceOf = (id: DeviceIdentity) =>
    new SimulatedDevice({
      ...id,
      serverUrl: `${t.deviceBaseUrl}/ManagementServer/MDM.svc`,
      insecure: true,
    });
  const getDevice = async (deviceId: string) => {
    const r = await t.http.get(api(`/devices/${deviceId}`)).set(bearer(token));
    expect(r.status).toBe(200);
    return r.body.data;
  };
  const queue = async (deviceId: string, path = './DevDetail/SwV') => {
    const r = await t.http
      .post(api(`/devices/${deviceId}/commands`))
      .set(bearer(token))
      .send({ commands: [{ config: { path, action: 'Get', format: 'chr' } }] });
    expect(r.status).toBe(200);
    return r.body.data as { id: string; commands: { cmdId: string; status: string }[] };
  };
  const batchStatus = async (deviceId: string, batchId: string) => {
    const r = await t.http.get(api(`/devices/${deviceId}/commands/${batchId}`)).set(bearer(token));
    expect(r.status).toBe(200);
    return r.body.data.commands[0].status as string;
  };

  beforeAll(async () => {
    const port = await freeLoopbackPort();
    t = await startTestApp(__filename, {
      DEVICE_PORT: String(port),
      PUBLIC_BASE_URL: `https://127.0.0.1:${port}`,
      ENROLLMENT_MAX_FAILURES_PER_USER: '5',
      ENROLLMENT_MAX_FAILURES_PER_IP: '1000',
    });
    token = t.token();
    slug = uniqueSlug('enr');
    domain = `${slug}.example.com`;
    const org = await t.http
      .post('/v1/organizations')
      .set(bearer(token))
      .send({ name: `Org ${slug}`, slug });
    expect(org.status).toBe(200);
    orgId = org.body.data.id;
    const ent = await t.http
      .post(api())
      .set(bearer(token))
      .send({ name: 'Contoso PCs', domains: [domain.toUpperCase()] });
    expect(ent.status).toBe(200);
    enterpriseId = ent.body.data.id;
    expect(ent.body.data.domains).toEqual([domain]);
    const s = await t.http.post(api('/enrollment-secret')).set(bearer(token)).send();
    expect(s.status).toBe(200);
    expect(s.headers['cache-control']).toBe('no-store');
    secret = s.body.data.secret;
  });
  afterAll(() => t.close());

  describe('the enterprise PKI and secrets', () => {
    it('shows the CA certificate and thumbprint, never the key or the secret', async () => {
      const r = await t.http.get(api()).set(bearer(token));
      expect(r.status).toBe(200);
      const ca = r.body.data.ca;
      const cert = new X509Certificate(ca.certificatePem);
      expect(cert.ca).toBe(true);
      expect(ca.thumbprint).toBe(createHash('sha1').update(cert.raw).digest('hex').toUpperCase());
      expect(r.body.data.enrollmentSecretRotatedAt).toEqual(expect.any(String));
      const json = JSON.stringify(r.body);
      expect(json).not.toMatch(/PRIVATE KEY|sealed|enrollmentSecretHash/i);
      caPem = ca.certificatePem;

      const stored = await t.db
        .collection('win_enterprises')
        .findOne({ _id: new Types.ObjectId(enterpriseId) });
      expect(stored?.ca.sealedPrivateKey).toMatch(/^v1:/);
      const config = t.app.get<AppConfig>(APP_CONFIG);
      const key = openPrivateKey(
        stored?.ca.sealedPrivateKey,
        config.enrollment.masterKey.reveal(),
        enterpriseId,
      );
      expect(key).toContain('BEGIN PRIVATE KEY');
      expect(JSON.stringify(stored)).not.toContain(secret.replace(/-/g, ''));
      expect(stored?.enrollmentSecretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.body.data.enrollmentSecretRotatedAt).toBe(
        stored?.enrollmentSecretRotatedAt.toISOString(),
      );
    });

    it('creates a CA on first read for an enterprise stored without one', async () => {
      const s2 = uniqueSlug('noca');
      const o = await t.http
        .post('/v1/organizations')
        .set(bearer(token))
        .send({ name: 'Old', slug: s2 });
      await t.http
        .post(`/v1/organizations/${s2}/mdm/windows/enterprise`)
        .set(bearer(token))
        .send({});
      await t.db
        .collection('win_enterprises')
        .updateOne({ organizationId: new Types.ObjectId(o.body.data.id) }, { $unset: { ca: '' } });
      const r = await t.http
        .get(`/v1/organizations/${s2}/mdm/windows/enterprise`)
        .set(bearer(token));
      expect(r.status).toBe(200);
      expect(r.body.data.ca.certificatePem).toContain('BEGIN CERTIFICATE');
      const stored = await t.db
        .collection('win_enterprises')
        .findOne({ organizationId: new Types.ObjectId(o.body.data.id) });
      expect(stored?.ca.thumbprint).toBe(r.body.data.ca.thumbprint);
    });

    it('refuses a domain another enterprise already has (409) and validates domains', async () => {
      const s2 = uniqueSlug('dom');
      await t.http.post('/v1/organizations').set(bearer(token)).send({ name: 'Dom', slug: s2 });
      const clash = await t.http
        .post(`/v1/organizations/${s2}/mdm/windows/enterprise`)
        .set(bearer(token))
        .send({ domains: [domain] });
      expect(clash.status).toBe(409);
      expect(clash.body.error.code).toBe(4009);
      const bad = await t.http
        .patch(api())
        .set(bearer(token))
        .send({ domains: ['not a domain'] });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe(5091);
      const same = await t.http
        .patch(api())
        .set(bearer(token))
        .send({ domains: [domain, `${domain}.`] });
      expect(same.status).toBe(200);
      expect(same.body.data.domains).toEqual([domain]);
    });

    it('validates invitations: e-mails, at most 100, bounded duration, permission', async () => {
      const post = (body: object, tk = token) =>
        t.http.post(api('/enrollment-tokens')).set(bearer(tk)).send(body);
      for (const body of [
        { userEmails: [] },
        { userEmails: ['not-an-email'] },
        { userEmails: Array.from({ length: 101 }, (_, i) => `u${i}@${domain}`) },
        { userEmails: [`a@${domain}`], duration: '10y' },
        { userEmails: [`a@${domain}`], duration: '90d' },
        { userEmails: [`a@${domain}`], duration: 30 },
        { userEmails: [`a@${domain}`], extra: 1 },
      ]) {
        const r = await post(body);
        expect({ body, status: r.status, code: r.body.error?.code }).toEqual({
          body,
          status: 400,
          code: 5091,
        });
      }
      const denied = await post(
        { userEmails: [`a@${domain}`] },
        t.token({ permissions: ['mdm.windows.enterprise.get'] }),
      );
      expect(denied.status).toBe(403);
      const secretDenied = await t.http
        .post(api('/enrollment-secret'))
        .set(bearer(t.token({ permissions: ['mdm.windows.enrollment.create'] })));
      expect(secretDenied.status).toBe(403);
      expect(await t.db.collection('win_enrollment_invitations').countDocuments({})).toBe(0);
    });
  });

  describe('discovery', () => {
    it('answers the GET probe with 200 and an empty body', async () => {
      const r = await rawPost(t, '/EnrollmentServer/Discovery.svc', '', 'GET');
      expect(r.status).toBe(200);
      expect(r.body).toBe('');
      expect(r.headers['content-length']).toBe('0');
    });

    it('answers Discover with OnPremise and URLs on the public base URL, echoing the MessageID', async () => {
      const messageId = newMessageId();
      const body = discoverRequest({
        messageId,
        to: 'https://x/EnrollmentServer/Discovery.svc',
        email: 'a@unknown.test',
        requestVersion: '9.0',
      });
      const r = await rawPost(t, '/EnrollmentServer/Discovery.svc', body);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('application/soap+xml; charset=utf-8');
      expectFramed(r);
      expect(r.body).toContain(`<a:RelatesTo>${messageId}</a:RelatesTo>`);
      expect(r.body).toContain('<AuthPolicy>OnPremise</AuthPolicy>');
      expect(r.body).toContain(
        `<EnrollmentPolicyServiceUrl>${t.deviceBaseUrl}/EnrollmentServer/Policy.svc</EnrollmentPolicyServiceUrl>`,
      );
      expect(r.body).toContain(
        `<EnrollmentServiceUrl>${t.deviceBaseUrl}${ENROLLMENT_URL}</EnrollmentServiceUrl>`,
      );
    });
  });

  describe('enrollment with the enterprise secret, then management', () => {
    let enrolled: Awaited<ReturnType<typeof enrollDevice>>;
    let winDeviceId: string;
    let firstBatch: string;

    it('issues a certificate from the enterprise CA and creates the device, active', async () => {
      enrolled = await enrollDevice(enrollOpts({ email: `Alice@${domain.toUpperCase()}` }));
      const deviceId = enrolled.identity.deviceId;
      expect(enrolled.managementUrl).toBe(`${t.deviceBaseUrl}/ManagementServer/MDM.svc`);
      expect(enrolled.providerId).toBe('mullion');
      expect(enrolled.caCertPem.replace(/\s/g, '')).toBe(caPem.replace(/\s/g, ''));
      expect(enrolled.provisioningDoc).toContain('PrivateKeyContainer');
      expect(enrolled.provisioningDoc).toContain(`Subject=CN%3D${deviceId}&amp;Stores=My%5CUser`);
      const check = verifyClientCertificate(enrolled.identity.cert, caPem, new Date());
      expect(check).toMatchObject({
        ok: true,
        subjectCn: deviceId,
        thumbprint: enrolled.clientThumbprint,
      });
      // Every answer echoed its request's MessageID and was framed (checked by the client too).
      for (const ex of enrolled.exchanges.slice(1)) expect(ex.status).toBe(200);

      const d = await getDevice(deviceId);
      winDeviceId = d.id;
      expect(d).toMatchObject({
        deviceId,
        status: 'active',
        certificate: { thumbprint: enrolled.clientThumbprint, source: 'enrollment' },
        enrollment: { type: 'Full', userEmail: `alice@${domain}`, via: 'secret' },
      });
      const user = await t.db
        .collection('mdm_users')
        .findOne({ organizationId: new Types.ObjectId(orgId), email: `alice@${domain}` });
      expect(user?._id.toHexString()).toBe(d.mdmUserId);
    });

    it('runs the first management session with the issued identity: DevInfo, a command and its status', async () => {
      const deviceId = enrolled.identity.deviceId;
      const batch = await queue(deviceId);
      firstBatch = batch.id;
      const device = deviceOf(enrolled.identity);
      const session = await device.runSession();
      expect(session.transcript.map((c) => [c.verb, c.target, c.answeredStatus])).toEqual([
        ['Get', './DevDetail/SwV', '200'],
      ]);
      const d = await getDevice(deviceId);
      expect(d.inventory).toMatchObject({
        devId: deviceId,
        manufacturer: 'Mullion',
        model: 'Simulated PC',
      });
      expect(d.lastSeenAt).toEqual(expect.any(String));
      expect(await batchStatus(deviceId, batch.id)).toBe('Acknowledged');
    });

    it('refuses an enrolled-source certificate that does not chain to the CA or is out of validity', async () => {
      const deviceId = uniqueDeviceId();
      const foreign = await makeDeviceCredentials(deviceId);
      const r = await t.http
        .post(api('/devices'))
        .set(bearer(token))
        .send({ deviceId, certificate: foreign.certPem });
      expect(r.status).toBe(200);
      const sim = deviceOf({ deviceId, cert: foreign.certPem, key: foreign.keyPem });
      await sim.runSession(); // admin-registered: trusted by thumbprint
      await t.db
        .collection('win_devices')
        .updateOne({ deviceId }, { $set: { 'certificate.source': 'enrollment' } });
      await expect(sim.runSession()).rejects.toMatchObject({ kind: 'http', httpStatus: 401 });

      // Issued by the enterprise CA, but expired.
      const config = t.app.get<AppConfig>(APP_CONFIG);
      const stored = await t.db
        .collection('win_enterprises')
        .findOne({ _id: new Types.ObjectId(enterpriseId) });
      const keys = await generateDeviceKey();
      const old = await issueDeviceCertificate({
        ca: {
          certificatePem: caPem,
          privateKeyPkcs8Pem: openPrivateKey(
            stored?.ca.sealedPrivateKey,
            config.enrollment.masterKey.reveal(),
            enterpriseId,
          ),
        },
        csrPublicKey: keys.publicKey,
        deviceId,
        now: new Date(Date.now() - 3 * 86400_000),
        validityDays: 1,
      });
      await t.db.collection('win_devices').updateOne(
        { deviceId },
        {
          $set: {
            certificateThumbprint: old.thumbprint,
            'certificate.thumbprint': old.thumbprint,
          },
        },
      );
      const expired = deviceOf({
        deviceId,
        cert: old.certificatePem,
        key: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      });
      await expect(expired.runSession()).rejects.toMatchObject({ kind: 'http', httpStatus: 401 });
    });

    it('unenrolls by administrator: pending commands cancelled, the PC told to leave, then its check-in refused with 401', async () => {
      const deviceId = enrolled.identity.deviceId;
      const pending = await queue(deviceId, './DevDetail/OEM');
      const r = await t.http
        .post(api(`/devices/${deviceId}/unenroll`))
        .set(bearer(token))
        .send();
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({
        id: winDeviceId,
        status: 'unenrolling',
        unenrollDeadline: expect.any(String),
      });
      expect(await batchStatus(deviceId, pending.id)).toBe('Cancel');
      const again = await t.http
        .post(api(`/devices/${deviceId}/unenroll`))
        .set(bearer(token))
        .send();
      expect(again.body.data.status).toBe('unenrolling');
      // Its next session carries the DMClient Unenroll Exec; the PC accepts it and leaves.
      const pc = deviceOf(enrolled.identity);
      const last = await pc.runSession();
      expect(last.transcript.map((e) => [e.verb, e.answeredStatus])).toEqual([['Exec', '200']]);
      expect(pc.unenrolled).toBe(true);
      expect(await getDevice(deviceId)).toMatchObject({
        status: 'unenrolled',
        unenrolledAt: expect.any(String),
      });
      const err = await deviceOf(enrolled.identity)
        .runSession()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SimulatorError);
      expect((err as SimulatorError).httpStatus).toBe(401);
      const queued = await t.http
        .post(api(`/devices/${deviceId}/commands`))
        .set(bearer(token))
        .send({
          commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }],
        });
      expect(queued.body.error?.code).toBe(5142);
    });

    it('re-enrolls the same device id: same device, new certificate, history kept, old certificate refused', async () => {
      const deviceId = enrolled.identity.deviceId;
      // The device itself, presenting its current certificate in the TLS handshake.
      const again = await enrollDevice(
        enrollOpts({ email: `alice@${domain}`, deviceId, clientCertificate: enrolled.identity }),
      );
      expect(again.clientThumbprint).not.toBe(enrolled.clientThumbprint);
      const d = await getDevice(deviceId);
      expect(d).toMatchObject({
        id: winDeviceId,
        status: 'active',
        certificate: { thumbprint: again.clientThumbprint, source: 'enrollment' },
      });
      expect(d.unenrolledAt).toBeUndefined();
      const history = await t.http.get(api(`/devices/${deviceId}/commands`)).set(bearer(token));
      expect(history.status).toBe(200);
      const ids = (history.body.data.docs as { id: string }[]).map((b) => b.id);
      expect(ids).toContain(firstBatch);
      expect(ids).toHaveLength(2);
      expect(await batchStatus(deviceId, firstBatch)).toBe('Acknowledged');
      await expect(deviceOf(enrolled.identity).runSession()).rejects.toMatchObject({
        httpStatus: 401,
      });
      const session = await deviceOf(again.identity).runSession();
      expect(session.outcome).toBe('completed');
      expect(await t.db.collection('win_devices').countDocuments({ deviceId })).toBe(1);
      // The enterprise's device count (decisions.md §49) counted the enrollment, not the re-enrollment.
      const counted = await t.db
        .collection<{ _id: string; devices: number }>('win_target_counts')
        .findOne({ _id: enterpriseId });
      expect(counted?.devices).toBe(
        await t.db
          .collection('win_devices')
          .countDocuments({ winEnterpriseId: new Types.ObjectId(enterpriseId) }),
      );
    });
  });

  describe('re-enrolling a device id the enterprise already has (no takeover)', () => {
    const deviceId = uniqueDeviceId();
    const ownerHw = randomHwDevId();
    let owner: Awaited<ReturnType<typeof enrollDevice>>;
    let ownerUserId: string;
    const stored = () =>
      t.db
        .collection('win_devices')
        .findOne({ winEnterpriseId: new Types.ObjectId(enterpriseId), deviceId });
    const snapshot = async () => {
      const d = await stored();
      return {
        status: d?.status,
        mdmUserId: d?.mdmUserId?.toHexString(),
        thumbprint: d?.certificateThumbprint,
        enrollment: d?.enrollment,
        updatedAt: d?.updatedAt,
      };
    };

    beforeAll(async () => {
      owner = await enrollDevice(
        enrollOpts({ email: `owner@${domain}`, deviceId, hwDevId: ownerHw }),
      );
      ownerUserId = (await getDevice(deviceId)).mdmUserId;
    });

    it('refuses another user on other hardware with Authorization, changing nothing, with the secret', async () => {
      const before = await snapshot();
      const f = await expectFault(
        enrollDevice(
          enrollOpts({ email: `mallory@${domain}`, deviceId, hwDevId: randomHwDevId() }),
        ),
        's:Authorization',
        'enrollment',
      );
      expect(f.fault.errorType).toBeUndefined();
      expect(f.fault.reason).toMatch(/enrolled by another user/);
      expect(f.fault.reason).not.toContain('owner@');
      expect(await snapshot()).toEqual(before);
      // The refused user was not even created.
      expect(
        await t.db.collection('mdm_users').countDocuments({
          organizationId: new Types.ObjectId(orgId),
          email: `mallory@${domain}`,
        }),
      ).toBe(0);
      // The owner's certificate still opens sessions.
      expect((await deviceOf(owner.identity).runSession()).outcome).toBe('completed');
    });

    it('refuses it with an invitation too, and leaves the invitation unused', async () => {
      const email = `mallory2@${domain}`;
      const [inv] = (
        await t.http
          .post(api('/enrollment-tokens'))
          .set(bearer(token))
          .send({ userEmails: [email] })
      ).body.data;
      const before = await snapshot();
      await expectFault(
        enrollDevice(
          enrollOpts({ email, password: inv.token, deviceId, hwDevId: randomHwDevId() }),
        ),
        's:Authorization',
        'enrollment',
      );
      expect(await snapshot()).toEqual(before);
      const unused = await t.db.collection('win_enrollment_invitations').findOne({ email });
      expect(unused?.usedAt).toBeNull();
      // Still good for the user's own device.
      await enrollDevice(enrollOpts({ email, password: inv.token }));
    });

    it("refuses the device's own user with the enterprise secret alone: the e-mail is only typed", async () => {
      const before = await snapshot();
      await expectFault(
        enrollDevice(enrollOpts({ email: `owner@${domain}`, deviceId, hwDevId: ownerHw })),
        's:Authorization',
        'enrollment',
      );
      expect(await snapshot()).toEqual(before);
    });

    it('refuses another user with the same HWDevID (client-supplied, not proof)', async () => {
      const before = await snapshot();
      expect(before.enrollment?.hwDevId).toBe(ownerHw);
      await expectFault(
        enrollDevice(enrollOpts({ email: `heir@${domain}`, deviceId, hwDevId: ownerHw })),
        's:Authorization',
        'enrollment',
      );
      expect(await snapshot()).toEqual(before);
      expect((await deviceOf(owner.identity).runSession()).outcome).toBe('completed');
    });

    it("refuses a certificate that is not the device's current one: another device's, or none", async () => {
      const other = await enrollDevice(enrollOpts({ email: `other@${domain}` }));
      const before = await snapshot();
      await expectFault(
        enrollDevice(
          enrollOpts({
            email: `other@${domain}`,
            deviceId,
            hwDevId: ownerHw,
            clientCertificate: other.identity,
          }),
        ),
        's:Authorization',
        'enrollment',
      );
      // A self-made certificate naming the device, with its thumbprint unknown.
      const forged = await makeDeviceCredentials(deviceId);
      await expectFault(
        enrollDevice(
          enrollOpts({
            email: `other@${domain}`,
            deviceId,
            clientCertificate: { cert: forged.certPem, key: forged.keyPem },
          }),
        ),
        's:Authorization',
        'enrollment',
      );
      expect(await snapshot()).toEqual(before);
    });

    it("lets the device's own user re-enroll it with their invitation; an inactive device stays inactive", async () => {
      const patched = await t.http
        .patch(api(`/devices/${deviceId}`))
        .set(bearer(token))
        .send({ status: 'inactive' });
      expect(patched.status).toBe(200);
      const [inv] = (
        await t.http
          .post(api('/enrollment-tokens'))
          .set(bearer(token))
          .send({ userEmails: [`owner@${domain}`] })
      ).body.data;
      const newHw = randomHwDevId();
      const again = await enrollDevice(
        enrollOpts({ email: `OWNER@${domain}`, password: inv.token, deviceId, hwDevId: newHw }),
      );
      const d = await getDevice(deviceId);
      expect(d).toMatchObject({
        mdmUserId: ownerUserId,
        certificate: { thumbprint: again.clientThumbprint },
        enrollment: { hwDevId: newHw, userEmail: `owner@${domain}` },
      });
      expect(d.status).toBe('inactive');
      await t.http
        .patch(api(`/devices/${deviceId}`))
        .set(bearer(token))
        .send({ status: 'active' })
        .expect(200);
      owner = again;
    });

    it('lets the device re-enroll itself with its current certificate, whoever types the e-mail', async () => {
      const previous = owner;
      const heir = await enrollDevice(
        enrollOpts({
          email: `heir@${domain}`,
          deviceId,
          hwDevId: randomHwDevId(),
          clientCertificate: previous.identity,
        }),
      );
      const d = await getDevice(deviceId);
      expect(d.mdmUserId).not.toBe(ownerUserId);
      expect(d).toMatchObject({
        status: 'active',
        certificate: { thumbprint: heir.clientThumbprint },
        enrollment: { userEmail: `heir@${domain}` },
      });
      // The replaced certificate proves nothing any more.
      await expectFault(
        enrollDevice(
          enrollOpts({
            email: `owner@${domain}`,
            deviceId,
            clientCertificate: previous.identity,
          }),
        ),
        's:Authorization',
      );
      expect((await deviceOf(heir.identity).runSession()).outcome).toBe('completed');
    });

    it('lets anyone of the enterprise enroll a device once it is unenrolled', async () => {
      await t.http
        .post(api(`/devices/${deviceId}/unenroll`))
        .set(bearer(token))
        .send()
        .expect(200);
      const next = await enrollDevice(
        enrollOpts({ email: `next@${domain}`, deviceId, hwDevId: randomHwDevId() }),
      );
      expect(await getDevice(deviceId)).toMatchObject({
        status: 'active',
        certificate: { thumbprint: next.clientThumbprint },
        enrollment: { userEmail: `next@${domain}` },
      });
      expect(await t.db.collection('win_devices').countDocuments({ deviceId })).toBe(1);
    });

    it('refuses enrolling over a device an administrator registered (no user, no hardware id)', async () => {
      const adminId = uniqueDeviceId();
      const creds = await makeDeviceCredentials(adminId);
      await t.http
        .post(api('/devices'))
        .set(bearer(token))
        .send({ deviceId: adminId, certificate: creds.certPem })
        .expect(200);
      await expectFault(
        enrollDevice(enrollOpts({ email: `mallory@${domain}`, deviceId: adminId })),
        's:Authorization',
        'enrollment',
      );
      expect(await getDevice(adminId)).toMatchObject({
        status: 'active',
        certificate: { source: 'admin' },
      });
    });
  });

  describe('one-time invitations', () => {
    it('enrolls a user of an unclaimed domain once; the second use is an Authentication fault', async () => {
      const email = `Bob@elsewhere-${slug}.test`;
      const r = await t.http
        .post(api('/enrollment-tokens'))
        .set(bearer(token))
        .send({ userEmails: [email], duration: '1h' });
      expect(r.status).toBe(200);
      const [inv] = r.body.data;
      const lower = email.toLowerCase();
      expect(inv).toMatchObject({
        email: lower,
        token: expect.stringMatching(/^([0-9A-Z]{4}-){6}[0-9A-Z]{4}$/),
      });
      expect(inv.deepLink).toBe(
        `ms-device-enrollment:?mode=mdm&username=${lower}&servername=${t.deviceBaseUrl}`,
      );
      const stored = await t.db.collection('win_enrollment_invitations').findOne({ email: lower });
      // duration 1h from the moment the invitation was created, answered as stored.
      expect(stored!.expiresAt.getTime() - stored!.createdAt.getTime()).toBe(3600_000);
      expect(new Date(inv.expiresAt).getTime()).toBe(stored!.expiresAt.getTime());
      expect(stored?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(stored)).not.toContain(inv.token.replace(/-/g, ''));

      // Typed the way a user would: lower case, no dashes.
      const first = await enrollDevice(
        enrollOpts({ email, password: inv.token.replace(/-/g, '').toLowerCase() }),
      );
      const d = await getDevice(first.identity.deviceId);
      expect(d).toMatchObject({
        status: 'active',
        mdmUserId: inv.mdmUserId,
        enrollment: { via: 'invitation', userEmail: lower },
      });
      const used = await t.db.collection('win_enrollment_invitations').findOne({ email: lower });
      expect(used?.usedAt).toBeInstanceOf(Date);
      expect(used?.usedByDeviceId).toBe(first.identity.deviceId);

      const f = await expectFault(
        enrollDevice(enrollOpts({ email, password: inv.token })),
        's:Authentication',
        'policy',
      );
      expect(f.fault.reason).toMatch(/already used/);
    });

    it('lets exactly one of two concurrent enrollments consume a token', async () => {
      const email = `carol@${domain}`;
      const [inv] = (
        await t.http
          .post(api('/enrollment-tokens'))
          .set(bearer(token))
          .send({ userEmails: [email] })
      ).body.data;
      const results = await Promise.allSettled(
        [1, 2].map(() => enrollDevice(enrollOpts({ email, password: inv.token }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(EnrollmentFaultError);
      expect((rejected.reason as EnrollmentFaultError).fault.subcode).toBe('s:Authentication');
    });

    it("refuses another user's invitation", async () => {
      const [inv] = (
        await t.http
          .post(api('/enrollment-tokens'))
          .set(bearer(token))
          .send({ userEmails: [`dave@${domain}`] })
      ).body.data;
      await expectFault(
        enrollDevice(enrollOpts({ email: `eve@${domain}`, password: inv.token })),
        's:Authentication',
        'policy',
      );
    });
  });

  describe('npm run simulate -- --enroll', () => {
    it('enrolls, stores the identity (key 0600) and runs a session; a fault exits 1', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mullion-sim-'));
      try {
        const lines: string[] = [];
        const errors: string[] = [];
        const io = { out: (x: string) => lines.push(x), err: (x: string) => errors.push(x) };
        const deviceId = uniqueDeviceId();
        const args = [
          '--enroll',
          '--server',
          t.deviceBaseUrl,
          '--email',
          `sim@${domain}`,
          '--secret',
          secret,
          '--insecure',
          '--out',
          dir,
        ];
        expect(await runSimulate([...args, '--device', deviceId], io)).toBe(0);
        expect(errors).toEqual([]);
        const out = lines.join('\n');
        expect(out).toContain(`enrolled device ${deviceId}`);
        expect(out).toMatch(/session .*completed|completed/);
        expect(statSync(join(dir, `${deviceId}.key`)).mode & 0o777).toBe(0o600);
        const cert = readFileSync(join(dir, `${deviceId}.crt`), 'utf8');
        expect(verifyClientCertificate(cert, caPem, new Date())).toMatchObject({
          ok: true,
          subjectCn: deviceId,
        });
        expect((await getDevice(deviceId)).lastSeenAt).toEqual(expect.any(String));

        const code = await runSimulate(
          [
            '--enroll',
            '--server',
            t.deviceBaseUrl,
            '--email',
            `sim2@${domain}`,
            '--secret',
            'WRONG',
            '--insecure',
            '--out',
            dir,
            '--no-session',
          ],
          io,
        );
        expect(code).toBe(1);
        expect(errors.join('\n')).toMatch(/s:Authentication/);
        expect(await runSimulate(['--enroll', '--server', 'http://x'], io)).toBe(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('faults', () => {
    const rst = (
      password: string,
      csrBase64: string,
      deviceId = uniqueDeviceId(),
      messageId = newMessageId(),
    ) =>
      rstRequest({
        messageId,
        to: `${t.deviceBaseUrl}${ENROLLMENT_URL}`,
        username: `frank@${domain}`,
        password,
        csrBase64,
        context: windowsContext(deviceId, { hwDevId: 'AB'.repeat(32), deviceName: 'PC-F' }),
      });

    it('answers a wrong secret with an Authentication fault', async () => {
      await expectFault(
        enrollDevice(
          enrollOpts({
            email: `grace@${domain}`,
            password: 'AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH',
          }),
        ),
        's:Authentication',
        'policy',
      );
    });

    it('answers an unknown e-mail domain with an Authorization fault', async () => {
      await expectFault(
        enrollDevice(enrollOpts({ email: `heidi@nobody-${slug}.test` })),
        's:Authorization',
        'policy',
      );
    });

    it('answers a malformed envelope, an empty body and a SOAP 1.1 envelope with MessageFormat', async () => {
      for (const body of [
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><oops></s:Body>',
        '',
        '<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>',
      ]) {
        const r = await rawPost(t, ENROLLMENT_URL, body);
        expect(r.status).toBe(500);
        expectFramed(r);
        expect(readFault(r.body)?.subcode).toBe('s:MessageFormat');
      }
    });

    it('answers a CSR whose signature does not verify with CertificateRequest, creating nothing', async () => {
      const keys = await generateDeviceKey();
      const deviceId = uniqueDeviceId();
      const der = Buffer.from(await createDeviceCsr(deviceId, keys), 'base64');
      der[der.length - 1] ^= 0xff;
      const messageId = newMessageId();
      const r = await rawPost(
        t,
        ENROLLMENT_URL,
        rst(secret, der.toString('base64'), deviceId, messageId),
      );
      expect(r.status).toBe(500);
      expectFramed(r);
      const fault = readFault(r.body);
      expect(fault).toMatchObject({ subcode: 's:CertificateRequest', relatesTo: messageId });
      expect(fault?.reason).toMatch(/bad-signature/);
      expect(await t.db.collection('win_devices').countDocuments({ deviceId })).toBe(0);
    });

    it('maps other refusals to their faults, echoing the MessageID', async () => {
      const csr = await createDeviceCsr('DEV', await generateDeviceKey());
      const federatedOnly = newMessageId();
      const cases: [string, string, string, string | undefined][] = [
        [
          '/EnrollmentServer/Discovery.svc',
          discoverRequest({
            messageId: federatedOnly,
            to: 'x',
            email: `a@${domain}`,
            authPolicies: ['Federated'],
          }),
          's:Authorization',
          'DeviceNotSupported',
        ],
        [
          ENROLLMENT_URL,
          rst(secret, csr).replace(/<wsse:Password[^>]*>[^<]*<\/wsse:Password>/, ''),
          'a:InvalidSecurity',
          undefined,
        ],
        [
          ENROLLMENT_URL,
          rst(secret, csr).replace(/<wsse:Security[\s\S]*<\/wsse:Security>/, ''),
          's:Authentication',
          undefined,
        ],
        [
          ENROLLMENT_URL,
          // A renewal carries a PKCS#7, not a bare PKCS#10 (renewal.e2e-spec.ts).
          rst(secret, csr).replace('ws-trust/200512/Issue', 'ws-trust/200512/Renew'),
          's:MessageFormat',
          undefined,
        ],
        [
          ENROLLMENT_URL,
          rst(secret, csr).replace(
            /<(?:ac:)?ContextItem Name="DeviceID">[\s\S]*?<\/(?:ac:)?ContextItem>/,
            '',
          ),
          's:MessageFormat',
          'InvalidEnrollmentData',
        ],
        [ENROLLMENT_URL, rst(secret, csr, 'OTHER-DEVICE'), 's:CertificateRequest', undefined],
      ];
      for (const [path, body, subcode, errorType] of cases) {
        const messageId = /<a:MessageID>([^<]+)<\/a:MessageID>/.exec(body)?.[1];
        const r = await rawPost(t, path, body);
        expectFramed(r);
        expect({ subcode, got: readFault(r.body) }).toMatchObject({
          subcode,
          got: { subcode, errorType, relatesTo: messageId },
        });
      }
      expect(
        await t.db.collection('win_devices').countDocuments({ deviceId: 'OTHER-DEVICE' }),
      ).toBe(0);
    });

    it('refuses XXE without expanding it (MessageFormat)', async () => {
      const xxe = `<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>${rst(secret, 'AAAA').replace('frank@', '&x;frank@')}`;
      const r = await rawPost(t, ENROLLMENT_URL, xxe);
      expect(r.status).toBe(500);
      expect(readFault(r.body)?.subcode).toBe('s:MessageFormat');
      expect(r.body).not.toMatch(/root:/);
    });

    it('answers an oversized body with MessageFormat', async () => {
      const r = await rawPost(t, ENROLLMENT_URL, `<x>${'a'.repeat(70 * 1024)}</x>`);
      expect(r.status).toBe(500);
      expect(readFault(r.body)?.subcode).toBe('s:MessageFormat');
    });

    it('never locks the real user out: the right secret passes after failures; failures beyond the limit say nothing more', async () => {
      const email = `ivan@${domain}`;
      for (let i = 0; i < 5; i++) {
        await expectFault(
          enrollDevice(enrollOpts({ email, password: `WRONG-${i}` })),
          's:Authentication',
        );
      }
      // Over the username's limit a used-up invitation is no longer told apart from a wrong password.
      const f = await expectFault(
        enrollDevice(enrollOpts({ email, password: 'AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG' })),
        's:Authentication',
        'policy',
      );
      expect(f.fault.reason).toBe('Wrong enrollment secret or invitation');
      const ok = await enrollDevice(enrollOpts({ email }));
      expect((await getDevice(ok.identity.deviceId)).enrollment.userEmail).toBe(email);
      // The success cleared the count: the next failure is explained again.
      const again = await expectFault(
        enrollDevice(enrollOpts({ email, password: 'AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG' })),
        's:Authentication',
      );
      expect(again.fault.reason).toMatch(/mistyped/);
    });

    it('requires DeviceID, EnrollmentType and HWDevID in AdditionalContext (MessageFormat), creating nothing', async () => {
      const keys = await generateDeviceKey();
      for (const [name, replacement] of [
        ['EnrollmentType', ''],
        ['HWDevID', ''],
        ['HWDevID', '<ContextItem Name="HWDevID"><Value>   </Value></ContextItem>'],
        ['DeviceID', ''],
      ]) {
        const deviceId = uniqueDeviceId();
        const original = rst(secret, await createDeviceCsr(deviceId, keys), deviceId);
        const body = original.replace(
          new RegExp(`<(?:ac:)?ContextItem Name="${name}">[\\s\\S]*?</(?:ac:)?ContextItem>`),
          replacement,
        );
        expect(body).not.toBe(original);
        const r = await rawPost(t, ENROLLMENT_URL, body);
        expect({ name, replacement, fault: readFault(r.body) }).toMatchObject({
          name,
          replacement,
          fault: {
            subcode: 's:MessageFormat',
            errorType: 'InvalidEnrollmentData',
            reason: expect.stringContaining(name),
          },
        });
        expect(await t.db.collection('win_devices').countDocuments({ deviceId })).toBe(0);
      }
    });

    it('trims AdditionalContext values', async () => {
      const keys = await generateDeviceKey();
      const deviceId = uniqueDeviceId();
      const hw = randomHwDevId();
      const r = await rawPost(
        t,
        ENROLLMENT_URL,
        rstRequest({
          messageId: newMessageId(),
          to: `${t.deviceBaseUrl}${ENROLLMENT_URL}`,
          username: `trim@${domain}`,
          password: secret,
          csrBase64: await createDeviceCsr(deviceId, keys),
          context: [
            ['DeviceID', `  ${deviceId}\n`],
            ['EnrollmentType', ' Device '],
            ['HWDevID', `\t${hw} `],
            ['OSEdition', ' 4'],
          ],
        }),
      );
      expect(r.status).toBe(200);
      expect(await getDevice(deviceId)).toMatchObject({
        deviceId,
        enrollment: { type: 'Device', hwDevId: hw, osEdition: '4' },
      });
    });

    it('stops accepting the previous secret once rotated', async () => {
      const old = secret;
      const r = await t.http.post(api('/enrollment-secret')).set(bearer(token)).send();
      secret = r.body.data.secret;
      expect(secret).not.toBe(old);
      await expectFault(
        enrollDevice(enrollOpts({ email: `ken@${domain}`, password: old })),
        's:Authentication',
      );
      await enrollDevice(enrollOpts({ email: `ken@${domain}` }));
    });
  });
});

describe('MS-MDE2 enrollment behind a trusted TLS-terminating proxy (X-Forwarded-For)', () => {
  let t: TestApp;
  let domain: string;
  let secret: string;
  const POLICY_URL = '/EnrollmentServer/Policy.svc';
  /** GetPolicies through the proxy, as `forwardedFor` (what the proxy wrote). */
  const policy = async (forwardedFor: string, email: string, password: string) => {
    // The proxy connects to the device listener, from 127.0.0.1.
    const r = await rawPost(
      t,
      POLICY_URL,
      getPoliciesRequest({ messageId: newMessageId(), to: POLICY_URL, username: email, password }),
      'POST',
      { 'X-Forwarded-For': forwardedFor },
    );
    return { status: r.status, fault: readFault(r.body) };
  };

  beforeAll(async () => {
    t = await startTestApp(__filename, {
      // The test connects from 127.0.0.1: it plays the proxy.
      DEVICE_TRUSTED_PROXIES: '127.0.0.1',
      ENROLLMENT_MAX_FAILURES_PER_IP: '3',
      ENROLLMENT_MAX_FAILURES_PER_USER: '1000',
    });
    const token = t.token();
    const slug = uniqueSlug('prx');
    domain = `${slug}.example.com`;
    await t.http
      .post('/v1/organizations')
      .set(bearer(token))
      .send({ name: slug, slug })
      .expect(200);
    const base = `/v1/organizations/${slug}/mdm/windows/enterprise`;
    await t.http
      .post(base)
      .set(bearer(token))
      .send({ domains: [domain] })
      .expect(200);
    secret = (await t.http.post(`${base}/enrollment-secret`).set(bearer(token)).send()).body.data
      .secret;
  });
  afterAll(() => t.close());

  it('counts failures per forwarded client, not per proxy address', async () => {
    const a = '203.0.113.5';
    const b = '198.51.100.7';
    for (let i = 0; i < 3; i++) {
      expect((await policy(a, `u${i}@nobody-${domain}`, 'x')).fault?.subcode).toBe(
        's:Authorization',
      );
    }
    // Client a is over its limit: an unknown domain is answered as a wrong password…
    expect((await policy(a, `v@nobody-${domain}`, 'x')).fault).toMatchObject({
      subcode: 's:Authentication',
      reason: 'Wrong enrollment secret or invitation',
    });
    // …also when a prepends another address (only the entry the proxy wrote counts)…
    expect((await policy(`${b}, ${a}`, `w@nobody-${domain}`, 'x')).fault?.subcode).toBe(
      's:Authentication',
    );
    // …while another device behind the same proxy is not affected,
    expect((await policy(b, `v@nobody-${domain}`, 'x')).fault?.subcode).toBe('s:Authorization');
    // and the right secret passes even from a.
    expect(await policy(a, `real@${domain}`, secret)).toEqual({ status: 200, fault: undefined });
  });
});
