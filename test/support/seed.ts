import { randomBytes } from 'node:crypto';
import type { TestApp } from './app';
import { bearer } from './app';

export interface Seeded {
  orgId: string;
  slug: string;
  enterpriseId: string;
  deviceId: string;
  winDeviceId: string;
  token: string;
}

export function uniqueSlug(prefix = 'org'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function uniqueDeviceId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** A fresh organization with its Windows enterprise and one active device, through the API. */
export async function seedDevice(t: TestApp, opts: { deviceId?: string } = {}): Promise<Seeded> {
  const token = t.token();
  const slug = uniqueSlug();
  const org = await t.http
    .post('/v1/organizations')
    .set(bearer(token))
    .send({ name: `Org ${slug}`, slug });
  if (org.status !== 200) throw new Error(`seed org: ${org.status} ${JSON.stringify(org.body)}`);
  const ent = await t.http
    .post(`/v1/organizations/${slug}/mdm/windows/enterprise`)
    .set(bearer(token))
    .send({});
  if (ent.status !== 200)
    throw new Error(`seed enterprise: ${ent.status} ${JSON.stringify(ent.body)}`);
  const deviceId = opts.deviceId ?? uniqueDeviceId();
  const dev = await t.http
    .post(`/v1/organizations/${slug}/mdm/windows/enterprise/devices`)
    .set(bearer(token))
    .send({ deviceId, name: 'Test PC' });
  if (dev.status !== 200) throw new Error(`seed device: ${dev.status} ${JSON.stringify(dev.body)}`);
  return {
    orgId: org.body.data.id,
    slug,
    enterpriseId: ent.body.data.id,
    deviceId,
    winDeviceId: dev.body.data.id,
    token,
  };
}

export function commandsUrl(s: { slug: string; deviceId: string }, trailingSlash = true): string {
  return `/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${s.deviceId}/commands${trailingSlash ? '/' : ''}`;
}
