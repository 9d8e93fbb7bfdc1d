/**
 * A device's planning partition (decisions.md §47). FerretDB on PostgreSQL pushes down only
 * top-level equalities, so a walk over an enterprise's devices by `_id` ranges reads every device
 * of the enterprise for each page. Each device (and each of its profile assignments) instead
 * stores two small integers derived from its id, `planBucket` (0..PLAN_BUCKETS-1) and
 * `planGroup` (0..PLAN_GROUPS-1, the bucket's upper bits), and the profile planner walks one
 * value at a time with an equality the store answers from an index. Derived from the id (not
 * drawn at random) so that assignments get the device's partition without reading it, and
 * documents written without the fields can be given them later.
 */
export const PLAN_BUCKETS = 4096;
export const PLAN_GROUPS = 64;
const BUCKETS_PER_GROUP = PLAN_BUCKETS / PLAN_GROUPS;

export interface PlanPartitionFields {
  planBucket: number;
  planGroup: number;
}

/** FNV-1a over the id's hex digits: ObjectIds made in one burst differ mostly in their tail. */
export function planBucketOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PLAN_BUCKETS;
}

export function planFieldsOf(id: string): PlanPartitionFields {
  const planBucket = planBucketOf(id);
  return { planBucket, planGroup: Math.floor(planBucket / BUCKETS_PER_GROUP) };
}
