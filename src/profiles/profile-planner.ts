import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CommandsService } from '../commands/commands.service';
import { PollingLoop } from '../common/polling-loop';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PLAN_BUCKETS, PLAN_GROUPS } from '../devices/plan-bucket';
import { TargetCountsService } from '../devices/target-counts.service';
import { PlanScope, ProfileAssignmentsRepository } from './profile-assignments.repository';
import { ProfileDevicesRepository } from './profile-devices.repository';
import { ProfilePlansRepository } from './profile-plans.repository';
import { ProfilesRepository } from './profiles.repository';
import {
  APPLIED_STATES,
  PlanLevel,
  PlanPhase,
  PlanSlice,
  ProfilePlan,
  WinProfile,
} from './profiles.types';
import { PROFILE_ORIGIN } from './reconcile.service';
import { DevicesToPlan, devicesToPlan } from './target-bound';
import { isDeviceList, reaches, targetLabelsOf } from './targeting';

/** Deleted profiles examined per idle pass for purging. */
const PURGE_BATCH = 20;

/** Partitions one batch visits at most (each costs a read or two even when empty). */
const MAX_PARTS_PER_BATCH = 64;

interface Step {
  phase: PlanPhase;
  level: PlanLevel | null;
  part: number;
  cursor: string | null;
  handled: number;
  done?: boolean;
}

/**
 * The coarsest partitioning whose partitions hold about two batches or fewer of the devices
 * the plan concerns: a page reads its partition's devices of the enterprise, so a page costs
 * about a batch (plus the untargeted devices sharing the partition: over the whole walk, one
 * read of the enterprise), and a small plan reads the enterprise once or twice rather than
 * dozens of nearly empty partitions.
 */
export function planLevel(devices: number, batch: number): PlanLevel {
  if (devices <= 2 * batch) return PlanLevel.Enterprise;
  if (devices <= 2 * batch * PLAN_GROUPS) return PlanLevel.Group;
  return PlanLevel.Bucket;
}

function partsOf(level: PlanLevel): number {
  if (level === PlanLevel.Group) return PLAN_GROUPS;
  if (level === PlanLevel.Bucket) return PLAN_BUCKETS;
  return 1;
}

function sliceOf(level: PlanLevel, part: number): PlanSlice {
  if (level === PlanLevel.Group) return { field: 'planGroup', value: part };
  if (level === PlanLevel.Bucket) return { field: 'planBucket', value: part };
  return null;
}

/**
 * Turns stored plans into assignments in bounded batches (PROFILE_PLAN_BATCH_SIZE devices). A
 * plan is taken with a lease in the store and its cursor is stored after every batch, so a
 * restart, or another instance once the lease expires, resumes where it stopped. Requests only
 * store plans and count devices: they never wait for this.
 */
@Injectable()
export class ProfilePlanner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(ProfilePlanner.name);
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly loop = new PollingLoop({
    name: 'profile planning pass',
    log: this.log,
    // Deleted profiles are purged only on a pass that found no plan: planning goes first.
    pass: async () => {
      if ((await this.runOnce()) > 0) return true;
      await this.purgeDeleted();
      return false;
    },
  });
  /** Enterprises and profiles whose documents all carry partition fields (partitioned()). */
  private readonly partitionedKeys = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly plans: ProfilePlansRepository,
    private readonly profiles: ProfilesRepository,
    private readonly assignments: ProfileAssignmentsRepository,
    private readonly devices: ProfileDevicesRepository,
    private readonly commands: CommandsService,
    private readonly targetCounts: TargetCountsService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.profiles.planner) this.loop.start(this.config.profiles.planPollIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * Stores a whole-profile plan (replacing an unfinished one) and answers how many devices it
   * concerns: the devices the targets reach. For a deleted profile that is an estimate of the
   * devices it still applies to (equal once its earlier plans finished): never exact.
   */
  async planProfile(profile: WinProfile): Promise<DevicesToPlan> {
    const count = await this.countTargets(profile);
    const total = profile.deletedAt ? { devices: count.devices, exact: false } : count;
    await this.plans.save({
      organizationId: profile.organizationId,
      winEnterpriseId: profile.winEnterpriseId,
      profileId: profile.id,
      revision: profile.revision,
      deviceIds: null,
      total: total.devices,
    });
    this.kick();
    return total;
  }

  /**
   * From the maintained counts: a read per label named, whatever the fleet (decisions.md §49).
   * An enterprise never counted yet (a database from before the counts) has its devices counted,
   * as before: correct, and slow on FerretDB.
   */
  private async countTargets(profile: WinProfile): Promise<DevicesToPlan> {
    const { winEnterpriseId, targets } = profile;
    if (isDeviceList(targets)) return { devices: targets.deviceIds.length, exact: true };
    const counts = await this.targetCounts.read(winEnterpriseId, targetLabelsOf(targets));
    if (counts) return devicesToPlan(targets, counts);
    return { devices: await this.devices.count(winEnterpriseId, targets), exact: true };
  }

  /** Re-evaluates only these devices for the profile (their labels changed). */
  async planDevices(profile: WinProfile, deviceIds: string[]): Promise<void> {
    if (!deviceIds.length) return;
    await this.plans.save({
      organizationId: profile.organizationId,
      winEnterpriseId: profile.winEnterpriseId,
      profileId: profile.id,
      revision: profile.revision,
      deviceIds: [...deviceIds].sort(),
      total: deviceIds.length,
    });
    this.kick();
  }

  /** A plan was stored: run now rather than at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  /**
   * Takes one plan and runs up to `maxBatches` of its batches (all by default); answers the
   * batches run. A plan not finished is handed back with its stored cursor.
   */
  async runOnce(maxBatches = Number.POSITIVE_INFINITY): Promise<number> {
    const { planLeaseMs } = this.config.profiles;
    const claimed = await this.plans.claim(this.owner, new Date(), planLeaseMs);
    if (!claimed) return 0;
    let plan: ProfilePlan = claimed;
    let batches = 0;
    for (;;) {
      if (this.loop.stopped || batches >= maxBatches) {
        await this.plans.release(plan, this.owner);
        return batches;
      }
      const profile = await this.profiles.findAny(plan.profileId);
      if (!profile) {
        await this.plans.finish(plan, this.owner);
        return batches;
      }
      const step = await this.step(plan, profile);
      batches++;
      if (step.done) {
        await this.plans.finish(plan, this.owner);
        return batches;
      }
      const next = {
        phase: step.phase,
        level: step.level,
        part: step.part,
        cursor: step.cursor,
        processed: plan.processed + step.handled,
      };
      const leaseUntil = new Date(Date.now() + planLeaseMs);
      // Replaced by a newer plan of the profile meanwhile: that one starts over.
      if (!(await this.plans.advance(plan, this.owner, next, leaseUntil))) return batches;
      plan = { ...plan, ...next, leaseUntil };
    }
  }

  /** Runs plans until none is left (tests, the benchmark). */
  async runUntilIdle(): Promise<number> {
    let total = 0;
    for (let n = await this.runOnce(); n > 0; n = await this.runOnce()) total += n;
    return total;
  }

  /** One batch of a plan. */
  private async step(plan: ProfilePlan, profile: WinProfile): Promise<Step> {
    const limit = this.config.profiles.planBatchSize;
    const now = new Date();
    const scope: PlanScope = {
      organizationId: profile.organizationId,
      winEnterpriseId: profile.winEnterpriseId,
      profileId: profile.id,
    };
    const live = !profile.deletedAt;
    if (plan.deviceIds) {
      const ids = plan.deviceIds.filter((id) => !plan.cursor || id > plan.cursor).slice(0, limit);
      const found = await this.devices.labelsOf(profile.winEnterpriseId, ids);
      const reached = live ? found.filter((d) => reaches(profile.targets, d)).map((d) => d.id) : [];
      const reachedSet = new Set(reached);
      await this.reach(scope, profile, reached, now);
      const left = ids.filter((id) => !reachedSet.has(id));
      const applied = (await this.assignments.heads(profile.id, left))
        .filter((h) => APPLIED_STATES.includes(h.state))
        .map((h) => h.winDeviceId);
      await this.cancelUnsent(profile, applied, now);
      await this.assignments.retire(profile.id, applied, profile.onRemove, now);
      return {
        phase: PlanPhase.Reach,
        level: null,
        part: 0,
        cursor: ids.at(-1) ?? plan.cursor,
        handled: ids.length,
        done: ids.length < limit,
      };
    }
    return this.walk(plan, profile, scope, limit, now);
  }

  /**
   * One batch of a whole-profile plan: up to `limit` devices, one partition after another
   * (decisions.md §47). Reach gives every targeted device the current revision; prune then
   * retires the assignments left at an older revision (a deleted profile reaches none).
   */
  private async walk(
    plan: ProfilePlan,
    profile: WinProfile,
    scope: PlanScope,
    limit: number,
    now: Date,
  ): Promise<Step> {
    const live = !profile.deletedAt;
    let { level, part, cursor } = plan;
    let phase: PlanPhase = live ? plan.phase : PlanPhase.Prune;
    if (!level) {
      level = (await this.partitioned(profile))
        ? planLevel(plan.total, limit)
        : PlanLevel.Enterprise;
      part = 0;
      cursor = null;
    }
    const parts = partsOf(level);
    const below = live ? profile.revision : undefined;
    let handled = 0;
    for (let visited = 1; ; visited++) {
      const slice = sliceOf(level, part);
      const room = limit - handled;
      if (phase === PlanPhase.Reach) {
        const ids = await this.devices.idsAfter(
          profile.winEnterpriseId,
          profile.targets,
          slice,
          cursor,
          room,
        );
        await this.reach(scope, profile, ids, now, slice);
        handled += ids.length;
        if (ids.length === room) return { phase, level, part, cursor: ids[room - 1], handled };
      } else {
        // No cursor: the devices retired leave the set the next call reads.
        const ids = await this.assignments.staleDeviceIds(profile.id, below ?? null, room, slice);
        await this.cancelUnsent(profile, ids, now);
        await this.assignments.retire(profile.id, ids, profile.onRemove, now, below, slice);
        handled += ids.length;
        if (ids.length === room) return { phase, level, part, cursor: null, handled };
      }
      cursor = null;
      if (part + 1 < parts) part++;
      else if (phase === PlanPhase.Reach) [phase, part] = [PlanPhase.Prune, 0];
      else return { phase, level, part, cursor, handled, done: true };
      // Mostly empty partitions (a few targeted devices in a large enterprise): the visits
      // are bounded too, so each batch stores its progress within a bounded time.
      if (visited >= MAX_PARTS_PER_BATCH) return { phase, level, part, cursor, handled };
    }
  }

  /**
   * Whether every device of the enterprise and every assignment of the profile carries its
   * partition fields. Documents from before they existed (an older version, or written around
   * the schema) are not in any partition: such a plan walks the enterprise by `_id` pages
   * (§38's, slow on FerretDB but complete) until the backfill gives them their fields
   * (plan-partition-backfill.ts, §51): a negative answer is not kept, so the first plan after it
   * finishes walks partitions. A positive answer is kept for the process: devices created since
   * carry the fields (the device schema sets them), and so do the assignments the planner inserts.
   */
  private async partitioned(profile: WinProfile): Promise<boolean> {
    for (const [key, any] of [
      [profile.winEnterpriseId, () => this.devices.anyUnpartitioned(profile.winEnterpriseId)],
      [profile.id, () => this.assignments.anyUnpartitioned(profile.id)],
    ] as const) {
      if (this.partitionedKeys.has(key)) continue;
      if (await any()) return false;
      this.partitionedKeys.add(key);
    }
    return true;
  }

  /**
   * The profile stops applying to these devices: what it queued for them and was not sent yet
   * (any revision, a drift check's Gets too) is cancelled, whatever onRemove says: `keep` keeps
   * what the device has, not what it was about to get. Done before the retirement, so the
   * Deletes reconciliation queues for `delete` afterwards are never among them. Each command's
   * update is conditional on Pending: one taken for delivery meanwhile goes out.
   */
  private async cancelUnsent(profile: WinProfile, winDeviceIds: string[], now: Date) {
    const origin = { kind: PROFILE_ORIGIN, id: profile.id };
    // One read of the device's Pending queue each: the queue index serves it on any store.
    for (const id of winDeviceIds) await this.commands.cancelSuperseded(id, origin, -1, now);
  }

  private async reach(
    scope: PlanScope,
    profile: WinProfile,
    ids: string[],
    now: Date,
    slice: PlanSlice = null,
  ): Promise<void> {
    if (!ids.length) return;
    const heads = await this.assignments.heads(profile.id, ids, slice);
    await this.assignments.reach(scope, profile.revision, profile.contentRevision, ids, heads, now);
  }

  /** Deleted profiles with no plan left and every assignment `removed` go, with their assignments. */
  async purgeDeleted(): Promise<number> {
    let purged = 0;
    for (const p of await this.profiles.deleted(PURGE_BATCH)) {
      if ((await this.plans.pendingFor(p.id)).length) continue;
      if ((await this.assignments.countUnfinished(p.id)) > 0) continue;
      await this.assignments.deleteForProfile(p.id);
      await this.profiles.purge(p.id);
      purged++;
    }
    return purged;
  }
}
