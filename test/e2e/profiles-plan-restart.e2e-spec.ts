import { planFieldsOf } from '../../src/devices/plan-bucket';
import { ProfilePlanner } from '../../src/profiles/profile-planner';
import { startTestApp, TestApp } from '../support/app';
import { assignmentsOf, createProfile, insertDevices } from '../support/profiles';
import { seedDevice } from '../support/seed';

const ENV = { PROFILE_PLANNER: 'false', PROFILE_PLAN_BATCH_SIZE: '2500' };

/**
 * Issue 11: a 10k-device plan survives a restart. The planner is driven by the test (2 batches,
 * then the app stops), so the interruption point is exact without sleeps.
 */
describe('profiles: a 10k-device plan interrupted by a restart', () => {
  let first: TestApp | null = null;
  let second: TestApp | null = null;
  afterAll(async () => {
    await first?.close({ keepDatabase: true });
    await second?.close();
  });

  // FerretDB on a shared 2-core machine: 10,000 devices take minutes to write and plan.
  it('resumes from the stored cursor and ends with exactly one assignment per device', async () => {
    first = await startTestApp(__filename, ENV);
    const s = await seedDevice(first);
    const ids = await insertDevices(first, s, 10_000, ['fleet']);
    const profile = await createProfile(first, s, { targets: { labels: ['fleet'] } });
    expect(profile.devicesToPlan).toBe(10_000);

    expect(await first.app.get(ProfilePlanner).runOnce(2)).toBe(2);
    const plan = await first.db.collection('win_profile_plans').findOne({});
    // 10,001 devices, batches of 2,500: walked by planGroup (decisions.md §47), by _id inside one.
    expect(plan).toMatchObject({ phase: 'reach', level: 'group', processed: 5000 });
    const { part, cursor } = plan as unknown as { part: number; cursor: string };
    const walked = ids.filter((id) => {
      const group = planFieldsOf(id).planGroup;
      return group < part || (group === part && id <= cursor);
    });
    expect(walked).toHaveLength(5000);
    const firstHalf = await assignmentsOf(first, profile.id);
    expect(new Set(firstHalf.map((a) => a.winDeviceId.toHexString()))).toEqual(new Set(walked));
    // The instance dies holding the plan: its lease is left behind (already expired).
    await first.db
      .collection('win_profile_plans')
      .updateOne(
        {},
        { $set: { leaseOwner: 'dead-instance', leaseUntil: new Date(Date.now() - 1) } },
      );
    await first.close({ keepDatabase: true });
    const uri = first.uri;
    first = null;

    second = await startTestApp(__filename, ENV, { uri });
    const batches = await second.app.get(ProfilePlanner).runUntilIdle();
    // Two more full reach batches, then the rest of the partitions and the prune pass (whose
    // batches visit at most 64 partitions each).
    expect(batches).toBeGreaterThanOrEqual(3);
    const assignments = await assignmentsOf(second, profile.id);
    expect(assignments).toHaveLength(10_000);
    expect(new Set(assignments.map((a) => a.winDeviceId.toHexString()))).toEqual(new Set(ids));
    expect(new Set(assignments.map((a) => `${a.state}@${a.revision}`))).toEqual(
      new Set(['pending@1']),
    );
    expect(await second.db.collection('win_profile_plans').countDocuments()).toBe(0);
  }, 300_000);
});
