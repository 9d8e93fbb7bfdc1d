/*
 * A fleet of administrator-registered devices for the benches and `npm run simulate --fleet`:
 * one organization and enterprise through the REST API, device certificates issued by a
 * throw-away CA, the first devices registered through the API and, for large fleets, the rest
 * written through the driver as copies of an API-registered one (a POST per device costs tens of
 * milliseconds on the embedded store; 5,000 of them would take minutes).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ObjectId, type Db, type Document } from 'mongodb';
import { certificateInfoFromPem } from '../../src/devices/client-certificate';
import { createEnterpriseCa, issueDeviceCertificate } from '../../src/pki';

export interface FleetIdentity {
  deviceId: string;
  cert: string;
  key: string;
}

export interface Admin {
  adminUrl: string;
  token: string;
}

export async function adminApi(
  admin: Admin,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${admin.adminUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'application/json' },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

/** A fresh organization with its Windows enterprise; returns its slug. */
export async function createOrganization(admin: Admin): Promise<string> {
  const slug = `bench-${randomBytes(4).toString('hex')}`;
  await adminApi(admin, 'POST', '/v1/organizations', { name: `Bench ${slug}`, slug });
  await adminApi(admin, 'POST', `/v1/organizations/${slug}/mdm/windows/enterprise`, {});
  return slug;
}

export const enterprisePath = (slug: string) => `/v1/organizations/${slug}/mdm/windows/enterprise`;

/**
 * `n` identities, each with its own certificate (the server tells devices apart by thumbprint),
 * sharing `keys` RSA keys: a 2048-bit key generation costs ~50-100 ms, a certificate ~1 ms.
 */
export async function issueIdentities(n: number, keys = 1): Promise<FleetIdentity[]> {
  const ca = await createEnterpriseCa({ commonName: 'bench CA', now: new Date(), keyBits: 2048 });
  const pairs = Array.from({ length: Math.max(1, Math.min(keys, n)) }, () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { publicKey, key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
  });
  const out: FleetIdentity[] = [];
  for (let i = 0; i < n; i++) {
    const pair = pairs[i % pairs.length];
    const deviceId = randomBytes(16).toString('hex').toUpperCase();
    const cert = await issueDeviceCertificate({
      ca: { certificatePem: ca.certificatePem, privateKeyPkcs8Pem: ca.privateKeyPkcs8Pem },
      csrPublicKey: pair.publicKey,
      deviceId,
      now: new Date(),
    });
    out.push({ deviceId, cert: cert.certificatePem, key: pair.key });
  }
  return out;
}

/**
 * Registers every identity as a device of `slug`: the first `viaApi` (at least one) through
 * POST …/devices, ten at a time, the others as driver-written copies of the first one's
 * documents (its win_devices document and its device_certificates binding), 1,000 per insert.
 */
export async function registerDevices(
  admin: Admin,
  db: Db,
  slug: string,
  identities: readonly FleetIdentity[],
  viaApi = identities.length,
): Promise<void> {
  const api = Math.max(1, Math.min(viaApi, identities.length));
  for (let i = 0; i < api; i += 10) {
    await Promise.all(
      identities.slice(i, Math.min(i + 10, api)).map((d, j) =>
        adminApi(admin, 'POST', `${enterprisePath(slug)}/devices`, {
          deviceId: d.deviceId,
          name: `Bench PC ${i + j + 1}`,
          certificate: d.cert,
        }),
      ),
    );
  }
  if (api === identities.length) return;
  const devices = db.collection('win_devices');
  const bindings = db.collection('device_certificates');
  const template = await devices.findOne({ deviceId: identities[0].deviceId });
  if (!template) throw new Error('the API-registered device is not in win_devices');
  const binding = await bindings.findOne({ winDeviceId: String(template._id) });
  const {
    _id: _tid,
    outbox: _outbox,
    outboxAt: _outboxAt,
    outboxDue: _outboxDue,
    ...base
  } = template as Document & { _id: ObjectId };
  for (let i = api; i < identities.length; i += 1000) {
    const now = new Date();
    const docs: Document[] = [];
    const binds: Document[] = [];
    for (const [j, d] of identities.slice(i, i + 1000).entries()) {
      const id = new ObjectId();
      const certificate = certificateInfoFromPem(d.cert);
      docs.push({
        ...base,
        _id: id,
        deviceId: d.deviceId,
        name: `Bench PC ${i + j + 1}`,
        certificate,
        certificateThumbprint: certificate.thumbprint,
        createdAt: now,
        updatedAt: now,
      });
      if (binding) {
        binds.push({
          ...binding,
          _id: certificate.thumbprint,
          winDeviceId: String(id),
          boundAt: now,
        });
      }
    }
    await devices.insertMany(docs, { ordered: false });
    if (binds.length) await bindings.insertMany(binds as { _id: never }[], { ordered: false });
  }
}
