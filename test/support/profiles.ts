import { Types } from 'mongoose';
import type { TestApp } from './app';
import { insertRawDevices } from './device-docs';
import { bearer } from './app';
import type { Seeded } from './seed';
import { uniqueDeviceId } from './seed';

export const profilesUrl = (s: Pick<Seeded, 'slug'>) =>
  `/v1/organizations/${s.slug}/mdm/windows/enterprise/profiles`;
export const labelUrl = (s: Pick<Seeded, 'slug'>, label: string) =>
  `/v1/organizations/${s.slug}/mdm/windows/enterprise/labels/${label}/devices`;

export const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';

/** A valid profile body; `over` replaces fields. */
export function profileBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `Profile ${new Types.ObjectId().toHexString().slice(-6)}`,
    scope: 'device',
    settings: [{ path: CAMERA, format: 'int', value: '0' }],
    targets: { all: true },
    ...over,
  };
}

export async function createProfile(
  t: TestApp,
  s: Pick<Seeded, 'slug' | 'token'>,
  over: Record<string, unknown> = {},
): Promise<{ id: string; revision: number; devicesToPlan: number; devicesToPlanExact: boolean }> {
  const r = await t.http.post(profilesUrl(s)).set(bearer(s.token)).send(profileBody(over));
  if (r.status !== 200) throw new Error(`create profile: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data;
}

/**
 * Devices written through the driver (thousands in one round trip), in the seeded enterprise;
 * answers their ids in insertion (= _id) order. They carry their planning partition as created
 * devices do.
 */
export async function insertDevices(
  t: TestApp,
  s: Pick<Seeded, 'orgId' | 'enterpriseId'>,
  n: number,
  labels: string[] = [],
): Promise<string[]> {
  return insertRawDevices(t.db, s, n, { labels, deviceId: () => uniqueDeviceId() });
}

export interface StoredAssignment {
  winDeviceId: Types.ObjectId;
  profileId: Types.ObjectId;
  revision: number;
  state: string;
  stateChangedAt: Date;
}

export function assignmentsOf(t: TestApp, profileId: string): Promise<StoredAssignment[]> {
  return t.db
    .collection<StoredAssignment>('win_profile_assignments')
    .find({ profileId: new Types.ObjectId(profileId) })
    .toArray();
}

/** `deviceId → state@revision`: compact and order-free. */
export async function statesOf(t: TestApp, profileId: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    (await assignmentsOf(t, profileId)).map((a) => [
      a.winDeviceId.toHexString(),
      `${a.state}@${a.revision}`,
    ]),
  );
}
