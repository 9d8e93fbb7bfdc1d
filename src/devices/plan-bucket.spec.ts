import { Types } from 'mongoose';
import { PLAN_BUCKETS, PLAN_GROUPS, planBucketOf, planFieldsOf } from './plan-bucket';

describe('planning partitions', () => {
  // ObjectIds made in one burst (an enrollment wave, a bulk import) differ only in their tail.
  const ids = Array.from({ length: 20_000 }, () => new Types.ObjectId().toHexString());

  it('derives the same bucket from the same id, its group from its upper bits', () => {
    for (const id of ids.slice(0, 100)) {
      const f = planFieldsOf(id);
      expect(f).toEqual(planFieldsOf(id));
      expect(f.planBucket).toBe(planBucketOf(id));
      expect(f.planGroup).toBe(Math.floor(f.planBucket / (PLAN_BUCKETS / PLAN_GROUPS)));
    }
  });

  it('spreads ids made in one burst evenly over the groups and the buckets', () => {
    const groups = new Array<number>(PLAN_GROUPS).fill(0);
    const buckets = new Set<number>();
    for (const id of ids) {
      const f = planFieldsOf(id);
      expect(f.planBucket).toBeGreaterThanOrEqual(0);
      expect(f.planBucket).toBeLessThan(PLAN_BUCKETS);
      groups[f.planGroup]++;
      buckets.add(f.planBucket);
    }
    const mean = ids.length / PLAN_GROUPS;
    // A page reads its partition: no group may hold much more than its share.
    expect(Math.max(...groups)).toBeLessThan(mean * 1.3);
    expect(Math.min(...groups)).toBeGreaterThan(mean * 0.7);
    expect(buckets.size).toBeGreaterThan(PLAN_BUCKETS * 0.95);
  });
});
