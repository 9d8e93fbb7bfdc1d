import { Types } from 'mongoose';
import { planFieldsOf } from '../../src/devices/plan-bucket';
import {
  PLAN_PARTITIONS_MIGRATION,
  PlanPartitionBackfill,
} from '../../src/profiles/plan-partition-backfill';
import { STORE_MIGRATIONS_COLLECTION } from '../../src/profiles/plan-partitions.repository';
import { ProfilePlanner } from '../../src/profiles/profile-planner';
import { startTestApp, TestApp } from '../support/app';
import { rawDeviceDoc } from '../support/device-docs';
import { bearer } from '../support/app';
import {
  assignmentsOf,
  CAMERA,
  createProfile,
  insertDevices,
  profilesUrl,
} from '../support/profiles';
import { seedDevice, Seeded, uniqueDeviceId } from '../support/seed';

interface StoredDevice {
  _id: Types.ObjectId;
  planBucket?: number;
  planGroup?: number;
  updatedAt: Date;
}

/** Devices as a version before the planning partitions stored them (decisions.md §47): no partition fields. */
async function insertLegacyDevices(t: TestApp, s: Seeded, n: number, labels: string[]) {
  const docs = Array.from({ length: n }, () => {
    const {
      planBucket: _b,
      planGroup: _g,
      ...legacy
    } = rawDeviceDoc({
      orgId: s.orgId,
      enterpriseId: s.enterpriseId,
      deviceId: uniqueDeviceId(),
      labels,
      now: new Date('2026-01-01T00:00:00Z'),
    });
    return legacy;
  });
  await t.db.collection('win_devices').insertMany(docs);
  // The version that wrote them kept no target counts either (decisions.md §49): the new one
  // counts the devices until its recount has run.
  await t.db
    .collection('win_target_counts')
    .deleteMany({ winEnterpriseId: new Types.ObjectId(s.enterpriseId) });
  return docs.map((d) => d._id.toHexString());
}

function devicesOf(t: TestApp, ids: string[]): Promise<StoredDevice[]> {
  return t.db
    .collection<StoredDevice>('win_devices')
    .find({ _id: { $in: ids.map((id) => new Types.ObjectId(id)) } })
    .toArray();
}

const mark = (t: TestApp) =>
  t.db
    .collection<{ _id: string; counts: Record<string, number> }>(STORE_MIGRATIONS_COLLECTION)
    .findOne({ _id: PLAN_PARTITIONS_MIGRATION });

/** Polls the store until `done` answers a value (the jest timeout bounds it). */
async function until<T>(what: string, done: () => Promise<T | null | undefined>): Promise<T> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const v = await done();
    if (v !== null && v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`never reached: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function expectPartitioned(devices: StoredDevice[]) {
  for (const d of devices) {
    expect({ id: d._id.toHexString(), planBucket: d.planBucket, planGroup: d.planGroup }).toEqual({
      id: d._id.toHexString(),
      ...planFieldsOf(d._id.toHexString()),
    });
  }
}

/**
 * Issue 11, decisions.md §51: devices stored before the planning partitions get them from a
 * background backfill, in bounded batches that survive a restart, and plans then page them by
 * partition.
 */
describe('profiles: the planning partition backfill', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps.reverse()) await t.close();
  });
  const start = async (env: Record<string, string>, uri?: string) => {
    const t = await startTestApp(__filename, env, { uri });
    apps.push(t);
    return t;
  };

  it('gives legacy devices their partition in the background; a plan then walks partitions and reaches all of them', async () => {
    // The first instance is the "older version": no backfill; the devices are written without fields.
    const old = await start({ PROFILE_PARTITION_BACKFILL: 'false', PROFILE_PLANNER: 'false' });
    const s = await seedDevice(old);
    const legacy = await insertLegacyDevices(old, s, 120, ['fleet']);
    // An assignment of an older profile, written before assignments carried the partition too.
    const legacyAssignment = new Types.ObjectId();
    await old.db.collection('win_profile_assignments').insertOne({
      _id: legacyAssignment,
      organizationId: new Types.ObjectId(s.orgId),
      winEnterpriseId: new Types.ObjectId(s.enterpriseId),
      profileId: new Types.ObjectId(),
      winDeviceId: new Types.ObjectId(legacy[7]),
      revision: 1,
      state: 'removed',
      settings: [],
      stateChangedAt: new Date(),
    });
    expect((await devicesOf(old, legacy)).filter((d) => d.planBucket !== undefined)).toHaveLength(
      0,
    );
    expect(await mark(old)).toBeNull();
    await old.close({ keepDatabase: true });
    apps.pop();

    const t = await start(
      {
        // More updates than one FerretDB command can hold connections for (UPDATES_PER_COMMAND).
        PROFILE_PARTITION_BACKFILL_BATCH: '60',
        PROFILE_PLANNER: 'false',
        PROFILE_PLAN_BATCH_SIZE: '10',
      },
      old.uri,
    );
    const done = await until('the backfill mark', () => mark(t));
    expect(done.counts).toEqual({ devices: 120, assignments: 1 });
    expect(
      await t.db.collection('win_profile_assignments').findOne({ _id: legacyAssignment }),
    ).toMatchObject(planFieldsOf(legacy[7]));
    const stored = await devicesOf(t, legacy);
    expect(stored).toHaveLength(120);
    expectPartitioned(stored);
    // Nothing an administrator sees changed.
    expect(new Set(stored.map((d) => d.updatedAt.toISOString()))).toEqual(
      new Set(['2026-01-01T00:00:00.000Z']),
    );

    const profile = await createProfile(t, s, { targets: { labels: ['fleet'] } });
    expect(profile.devicesToPlan).toBe(120);
    const planner = t.app.get(ProfilePlanner);
    expect(await planner.runOnce(1)).toBe(1);
    // 120 devices in batches of 10: by planGroup (§47), which legacy devices without fields would
    // have kept at `enterprise` (§38's _id pages).
    expect(await t.db.collection('win_profile_plans').findOne({})).toMatchObject({
      level: 'group',
    });
    await planner.runUntilIdle();
    const assigned = await assignmentsOf(t, profile.id);
    expect(assigned.map((a) => a.winDeviceId.toHexString()).sort()).toEqual([...legacy].sort());
  }, 120_000);

  it('resumes after a restart in the middle of the backfill and finishes', async () => {
    const env = { PROFILE_PARTITION_BACKFILL_BATCH: '5', PROFILE_PLANNER: 'false' };
    const first = await start({ ...env, PROFILE_PARTITION_BACKFILL: 'false' });
    const s = await seedDevice(first);
    const legacy = await insertLegacyDevices(first, s, 20, []);

    // One batch, then the instance stops.
    const run = await first.app.get(PlanPartitionBackfill).runOnce(1);
    expect(run).toEqual({
      state: 'interrupted',
      written: { devices: 5, assignments: 0 },
      batches: 1,
    });
    const half = await devicesOf(first, legacy);
    expectPartitioned(half.filter((d) => d.planBucket !== undefined));
    expect(half.filter((d) => d.planBucket !== undefined)).toHaveLength(5);
    expect(await mark(first)).toBeNull();
    await first.close({ keepDatabase: true });
    apps.pop();

    const second = await start(env, first.uri);
    const done = await until('the backfill mark', () => mark(second));
    // Only the 15 left were written: the first 5 no longer matched the scan.
    expect(done.counts).toEqual({ devices: 15, assignments: 0 });
    const stored = await devicesOf(second, legacy);
    expect(stored).toHaveLength(20);
    expectPartitioned(stored);
    // A later start reads the mark and scans nothing.
    expect(await second.app.get(PlanPartitionBackfill).runOnce()).toEqual({
      state: 'done',
      written: { devices: 0, assignments: 0 },
      batches: 0,
    });
  }, 120_000);

  it('moves a batch of assignments larger than one FerretDB command holds to a new revision', async () => {
    // The planner's revision updates go in bounded commands too (common/mongo/bulk-updates.ts).
    const t = await start({ PROFILE_PLANNER: 'false', PROFILE_PLAN_BATCH_SIZE: '200' });
    const s = await seedDevice(t);
    const ids = await insertDevices(t, s, 120, ['fleet']);
    const profile = await createProfile(t, s, { targets: { labels: ['fleet'] } });
    const planner = t.app.get(ProfilePlanner);
    await planner.runUntilIdle();
    const patched = await t.http
      .patch(`${profilesUrl(s)}/${profile.id}`)
      .set(bearer(s.token))
      .send({ settings: [{ path: CAMERA, format: 'int', value: '1' }] });
    expect(patched.status).toBe(200);
    await planner.runUntilIdle();
    const assigned = await assignmentsOf(t, profile.id);
    expect(assigned.map((a) => a.winDeviceId.toHexString()).sort()).toEqual([...ids].sort());
    expect(new Set(assigned.map((a) => a.revision))).toEqual(new Set([2]));
  }, 120_000);
});
