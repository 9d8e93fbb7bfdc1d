import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { createHash, randomInt } from 'node:crypto';
import { CommandOutcomeHooks, CommandOutcomes } from '../commands/command-outcomes';
import { CommandsService } from '../commands/commands.service';
import { DeviceStatus } from '../devices/devices.types';
import { PLAN_BUCKETS } from '../devices/plan-bucket';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AssignmentState, SettingOutcome, WinProfile } from './profiles.types';
import { ProfilesRepository } from './profiles.repository';
import {
  BatchOutcome,
  DesiredValue,
  ReconcileStep,
  batchOutcome,
  checkConfigs,
  deliveryConfigs,
  removeConfigs,
} from './reconcile-outcome';
import { ReconcileAssignment, ReconcilePatch, ReconcileRepository } from './reconcile.repository';

/** The origin profile commands carry (commands keeps it opaque). */
export const PROFILE_ORIGIN = 'profile';

/**
 * A batch id derived from the work it carries (assignment, step, episode), so a retry after a
 * crash, or a second instance doing the same work, completes the same batch instead of queuing
 * twice (CommandsRepository.createBatch is idempotent by id). Its first four bytes are the
 * episode's time, as in any ObjectId, so the device's history keeps its order.
 */
export function reconcileBatchId(assignmentId: string, step: ReconcileStep, episode: Date): string {
  const seconds = Math.floor(episode.getTime() / 1000)
    .toString(16)
    .padStart(8, '0');
  const hash = createHash('sha256')
    .update(`${assignmentId}:${step}:${episode.getTime()}`)
    .digest('hex');
  return seconds + hash.slice(0, 16);
}

export interface ReconcilePass {
  delivered: number;
  removing: number;
  settled: number;
  checks: number;
}

/**
 * From assignment to verified state: queues each assignment's commands through the device's
 * queue, then decides its state from those commands' stored statuses — promptly when the
 * commands module reports an outcome, and again by a sweep, so an outcome whose notification
 * was lost to a crash is not lost. Every state change is one conditional single-document update.
 */
@Injectable()
export class ReconcileService implements OnModuleInit {
  private readonly logger = new Logger('ProfileReconcile');
  /**
   * The planning bucket the next pass's drift checks start from. Per process (decisions.md
   * §53): on FerretDB one instance serves the store (§5); on MongoDB each instance walks every
   * bucket itself, which is safe (a check is queued by a conditional update on the due time it
   * was read with, under a batch id derived from it) and costs reads, not work. Random at start
   * so that a process restarted more often than a walk takes still reaches every bucket.
   */
  private checkCursor = randomInt(PLAN_BUCKETS);
  /** False once no assignment without a planning bucket was left (they only ever gain one). */
  private unpartitionedLeft = true;
  /** A walk of the buckets ended since their due checks were last read. */
  private unpartitionedDue = false;
  /** The last pass stopped inside the cursor's bucket, its limit reached. */
  private checkHeld = false;
  /**
   * When run-out claims are looked for next (decisions.md §53). A claim is a lease of sweepMs,
   * so finding it a sixtieth of that late changes nothing, while each look decodes every
   * assignment of the states in flight (a rollout's delivering ones): once a minute at the
   * default hour, not every pass.
   */
  private nextClaimSweep = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repo: ReconcileRepository,
    private readonly profiles: ProfilesRepository,
    private readonly commands: CommandsService,
    private readonly outcomes: CommandOutcomeHooks,
  ) {}

  onModuleInit(): void {
    this.outcomes.register((e) => this.onOutcomes(e));
  }

  /** Statuses of profile commands were recorded: settle the assignments awaiting those batches. */
  async onOutcomes(e: CommandOutcomes, now = new Date()): Promise<void> {
    const batchIds = e.batches
      .filter((b) => b.origin.kind === PROFILE_ORIGIN)
      .map((b) => b.batchId);
    for (const a of await this.repo.awaiting(e.winDeviceId, batchIds)) {
      await this.settle(a, now);
    }
  }

  /** One bounded pass: start due work, settle open batches, queue due drift checks. */
  async runOnce(now = new Date()): Promise<ReconcilePass> {
    const pass: ReconcilePass = { delivered: 0, removing: 0, settled: 0, checks: 0 };
    const { batchSize, sweepMs } = this.config.profileReconcile;
    const sweep = now.getTime() >= this.nextClaimSweep;
    const due = await this.repo.due(now, batchSize, sweep);
    // Swept to the end (the limit not reached): the next look is a sixtieth of a lease away.
    if (sweep && due.length < batchSize) this.nextClaimSweep = now.getTime() + sweepMs / 60;
    for (const a of due) {
      if (!(await this.repo.claim(a, new Date(now.getTime() + sweepMs)))) continue;
      const claimed = { ...a, reconcileAt: new Date(now.getTime() + sweepMs) };
      try {
        if (a.state === AssignmentState.Pending) {
          if (await this.deliver(claimed, now)) pass.delivered++;
        } else if (a.state === AssignmentState.Removing && a.step !== 'remove') {
          if (await this.remove(claimed, now)) pass.removing++;
        } else if (a.batchId && (await this.settle(claimed, now))) pass.settled++;
      } catch (e) {
        // The claim runs out and the next pass tries again: the batch id makes that idempotent.
        this.logger.error(`Assignment ${a.id}: ${(e as Error).message}`);
      }
    }
    for (const a of await this.dueChecks(now, batchSize)) {
      try {
        if (await this.queueCheck(a, now)) pass.checks++;
      } catch (e) {
        this.logger.error(`Drift check of assignment ${a.id}: ${(e as Error).message}`);
      }
    }
    // A full bucket none of whose checks could be queued would hold the cursor for ever: its
    // due checks are left to the next walk.
    if (this.checkHeld && !pass.checks) this.advanceChecks();
    return pass;
  }

  /**
   * The due checks of the next bucketsPerPass planning buckets, never a scan of every verified
   * assignment: a check is queued at most one walk (4,096 / bucketsPerPass passes) after it is
   * due. A bucket that filled the pass's limit may hold more: the next pass starts there again
   * (the worker runs it at once, since this one found work), so a fleet verified in one burst is
   * checked batch after batch rather than a walk later. Assignments stored without a bucket are
   * read once per walk, while any is left.
   */
  private async dueChecks(now: Date, limit: number): Promise<ReconcileAssignment[]> {
    const due: ReconcileAssignment[] = [];
    this.checkHeld = false;
    for (let i = 0; i < this.config.profileReconcile.bucketsPerPass; i++) {
      const found = await this.repo.dueChecks(this.checkCursor, now, limit - due.length);
      due.push(...found);
      if (due.length >= limit) {
        this.checkHeld = true;
        break;
      }
      this.advanceChecks();
    }
    if (this.unpartitionedDue && due.length < limit) {
      this.unpartitionedDue = false;
      const legacy = await this.repo.dueUnpartitionedChecks(now, limit - due.length);
      if (!legacy.length) this.unpartitionedLeft = await this.repo.unpartitioned();
      due.push(...legacy);
    }
    return due;
  }

  private advanceChecks(): void {
    this.checkCursor = (this.checkCursor + 1) % PLAN_BUCKETS;
    // A walk ended: the unpartitioned assignments' turn (this pass, or the next with room).
    if (this.checkCursor === 0) this.unpartitionedDue = this.unpartitionedLeft;
  }

  /**
   * Where the next pass's drift checks start: tests aim a pass at an assignment's bucket rather
   * than walking 4,096 of them.
   */
  seekChecks(planBucket: number): void {
    this.checkCursor = planBucket % PLAN_BUCKETS;
  }

  /**
   * pending → delivering: the profile's revision as one batch (each write, then its Get), after
   * the Pending commands of other revisions are cancelled (a newer revision supersedes them).
   */
  private async deliver(a: ReconcileAssignment, now: Date): Promise<boolean> {
    const profile = await this.profiles.findAny(a.profileId);
    // A revision the planner has not reached yet: it sets this assignment pending again.
    if (!profile || profile.revision !== a.revision) return false;
    const target = await this.repo.deliveryTarget(a.organizationId, a.winDeviceId);
    if (!target || target.status === DeviceStatus.Unenrolled) return false;
    const origin = { kind: PROFILE_ORIGIN, id: profile.id, revision: profile.revision };
    await this.commands.cancelSuperseded(target.id, origin, profile.revision, now);
    const batchId = reconcileBatchId(a.id, 'deliver', a.stateChangedAt);
    // An atomic profile's writes go inside one Atomic, which may not hold a Get (OMA-DM 1.2
    // §6.6.3): its read-backs are queued once the Atomic is acknowledged (step verify).
    await this.commands.enqueueInternal(
      target,
      deliveryConfigs(profile.settings, { gets: !profile.atomic }),
      {
        origin,
        name: `profile ${profile.name} (revision ${profile.revision})`,
        createdBy: `profile:${profile.id}`,
        batchId,
        ...(profile.atomic && { atomic: true }),
      },
    );
    return this.repo.transition(a.id, expect(a), {
      state: AssignmentState.Delivering,
      settings: profile.settings.map((s) => ({ path: s.path, state: 'delivering' })),
      batchId,
      step: 'deliver',
      stateChangedAt: now,
      reconcileAt: a.reconcileAt,
      nextVerifyAt: null,
    });
  }

  /** removing: a Delete per setting (onRemove 'delete'), after the unsent writes are cancelled. */
  private async remove(a: ReconcileAssignment, now: Date): Promise<boolean> {
    const profile = await this.profiles.findAny(a.profileId);
    const target = await this.repo.deliveryTarget(a.organizationId, a.winDeviceId);
    if (!profile || !target || target.status === DeviceStatus.Unenrolled) {
      // Nothing left to delete from: the device is gone, or the profile with it.
      return this.repo.transition(a.id, expect(a), {
        state: AssignmentState.Removed,
        stateChangedAt: now,
        batchId: null,
        step: null,
        reconcileAt: null,
      });
    }
    const origin = { kind: PROFILE_ORIGIN, id: profile.id, revision: a.revision };
    // No revision is kept: nothing of this profile that was not sent yet should still be.
    await this.commands.cancelSuperseded(target.id, origin, -1, now);
    const batchId = reconcileBatchId(a.id, 'remove', a.stateChangedAt);
    await this.commands.enqueueInternal(target, removeConfigs(profile.settings), {
      origin,
      name: `profile ${profile.name} removed`,
      createdBy: `profile:${profile.id}`,
      batchId,
    });
    return this.repo.transition(a.id, expect(a), {
      state: AssignmentState.Removing,
      settings: profile.settings.map((s) => ({ path: s.path, state: 'removing' })),
      batchId,
      step: 'remove',
      reconcileAt: a.reconcileAt,
    });
  }

  /**
   * A verified assignment's drift check: a Get for each setting read back equal last time, queued
   * without a wake-up so it rides the device's next normal session. nextVerifyAt is cleared while
   * the check is open (a device offline for weeks gets one check, not one per interval).
   */
  private async queueCheck(a: ReconcileAssignment, now: Date): Promise<boolean> {
    const profile = await this.profiles.findAny(a.profileId);
    if (!profile || profile.revision !== a.revision || !a.nextVerifyAt) return false;
    const readable = new Set(a.settings.filter((s) => s.verified === 'yes').map((s) => s.path));
    const settings = profile.settings.filter((s) => s.verify && readable.has(s.path));
    const target = await this.repo.deliveryTarget(a.organizationId, a.winDeviceId);
    if (!settings.length || !target || target.status === DeviceStatus.Unenrolled) {
      return this.repo.transition(a.id, expect(a), {
        state: a.state,
        nextVerifyAt: null,
      });
    }
    const batchId = reconcileBatchId(a.id, 'check', a.nextVerifyAt);
    await this.commands.enqueueInternal(target, checkConfigs(settings), {
      origin: { kind: PROFILE_ORIGIN, id: profile.id, revision: profile.revision },
      name: `profile ${profile.name} drift check`,
      createdBy: `profile:${profile.id}`,
      batchId,
      wake: false,
    });
    return this.repo.transition(
      a.id,
      { ...expect(a), nextVerifyAt: a.nextVerifyAt },
      {
        state: a.state,
        batchId,
        step: 'check',
        nextVerifyAt: null,
        reconcileAt: new Date(now.getTime() + this.config.profileReconcile.sweepMs),
      },
    );
  }

  /**
   * Decides the assignment's state from its batch's stored statuses. Answers whether it wrote
   * (a changed in-flight state, or the final one).
   */
  async settle(a: ReconcileAssignment, now: Date): Promise<boolean> {
    if (!a.batchId || !a.step) return false;
    const commands = await this.commands.commandsOfBatch(a.organizationId, a.batchId);
    const desired =
      a.step === 'check' || a.step === 'verify' ? await this.desiredValues(a) : undefined;
    const out = batchOutcome(a.step, commands, desired);
    const settings = mergeSettings(a.settings, out.settings);
    if (!out.settled) {
      const state = a.step === 'check' ? a.state : out.state;
      if (state === a.state && sameSettings(settings, a.settings)) return false;
      return this.repo.transition(a.id, expect(a), {
        state,
        settings,
        ...(state !== a.state && { stateChangedAt: now }),
      });
    }
    if (a.step === 'deliver' && out.state === AssignmentState.Verified) {
      const verify = await this.queueReadBack(a, settings, now);
      if (verify) return verify.applied;
    }
    const patch = this.settledPatch(a, out, settings, now);
    const applied = await this.repo.transition(a.id, expect(a), patch);
    if (applied && patch.state !== a.state) {
      this.logger.log(
        JSON.stringify({
          msg: 'profile assignment settled',
          profileId: a.profileId,
          winDeviceId: a.winDeviceId,
          revision: a.revision,
          state: patch.state,
          ...(out.failure && { failure: out.failure }),
        }),
      );
    }
    return applied;
  }

  /**
   * An atomic profile's Atomic was acknowledged: its Gets follow in a batch of their own, on the
   * same queue (FIFO: after the Atomic). undefined when there is nothing to read back.
   */
  private async queueReadBack(
    a: ReconcileAssignment,
    delivered: SettingOutcome[],
    now: Date,
  ): Promise<{ applied: boolean } | undefined> {
    const profile = await this.profiles.findAny(a.profileId);
    if (!profile?.atomic || profile.revision !== a.revision) return undefined;
    const settings = profile.settings.filter((s) => s.verify);
    const target = await this.repo.deliveryTarget(a.organizationId, a.winDeviceId);
    if (!settings.length || !target) return undefined;
    const batchId = reconcileBatchId(a.id, 'verify', a.stateChangedAt);
    await this.commands.enqueueInternal(target, checkConfigs(settings), {
      origin: { kind: PROFILE_ORIGIN, id: profile.id, revision: profile.revision },
      name: `profile ${profile.name} read-back`,
      createdBy: `profile:${profile.id}`,
      batchId,
    });
    const verifying = new Set(settings.map((s) => s.path));
    return {
      applied: await this.repo.transition(a.id, expect(a), {
        state: AssignmentState.Verifying,
        settings: delivered.map((s) => (verifying.has(s.path) ? { ...s, state: 'verifying' } : s)),
        batchId,
        step: 'verify',
        stateChangedAt: now,
      }),
    };
  }

  private settledPatch(
    a: ReconcileAssignment,
    out: BatchOutcome,
    settings: SettingOutcome[],
    now: Date,
  ): ReconcilePatch {
    const verifyAgain = settings.some((s) => s.verified === 'yes')
      ? new Date(now.getTime() + this.config.profileReconcile.verifyIntervalMs)
      : null;
    const state = out.state as AssignmentState;
    return {
      state,
      settings,
      batchId: null,
      step: null,
      reconcileAt: null,
      nextVerifyAt: state === AssignmentState.Verified ? verifyAgain : null,
      ...(state !== a.state && { stateChangedAt: now }),
    };
  }

  private async desiredValues(a: ReconcileAssignment): Promise<Map<string, DesiredValue>> {
    const profile: WinProfile | null = await this.profiles.findAny(a.profileId);
    return new Map(
      (profile?.settings ?? []).map((s) => [s.path, { format: s.format, value: s.value }]),
    );
  }
}

/** The state, revision, episode and batch a decision was made from. */
function expect(a: ReconcileAssignment) {
  return {
    state: a.state,
    revision: a.revision,
    stateChangedAt: a.stateChangedAt,
    batchId: a.batchId,
  };
}

/** A check batch re-reads some settings: the others keep their outcome. */
function mergeSettings(before: SettingOutcome[], now: SettingOutcome[]): SettingOutcome[] {
  const byPath = new Map(now.map((s) => [s.path, s]));
  const merged = before.map((s) => byPath.get(s.path) ?? s);
  const known = new Set(before.map((s) => s.path));
  return [...merged, ...now.filter((s) => !known.has(s.path))];
}

function sameSettings(a: SettingOutcome[], b: SettingOutcome[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
