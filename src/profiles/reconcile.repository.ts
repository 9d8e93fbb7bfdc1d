import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model, Types } from 'mongoose';
import { findPage } from '../common/mongo/find-page';
import { Page, PageRequest } from '../common/pagination/pagination';
import type { DevicePushInfo, DeviceStatus } from '../devices/devices.types';
import { WinDeviceDoc } from '../devices/win-device.schema';
import { AssignmentState, SettingOutcome, WinProfileAssignment } from './profiles.types';
import { toAssignment } from './profile-assignments.repository';
import type { ReconcileStep } from './reconcile-outcome';
import { WinProfileAssignmentDoc } from './win-profile-assignment.schema';

/** An assignment as reconciliation reads it: plus the batch it awaits and its lease. */
export interface ReconcileAssignment extends WinProfileAssignment {
  batchId: string | null;
  step: ReconcileStep | null;
  reconcileAt: Date | null;
}

/** The device facts a delivery needs (the batch's fields, a wake-up, whether it is gone). */
export interface DeliveryTarget {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  mdmUserId?: string;
  status: DeviceStatus;
  push?: DevicePushInfo;
}

/** The fields a transition sets, beside the state. */
export interface ReconcilePatch {
  state: AssignmentState;
  settings?: SettingOutcome[];
  batchId?: string | null;
  step?: ReconcileStep | null;
  reconcileAt?: Date | null;
  nextVerifyAt?: Date | null;
  /** Set when the state changes. */
  stateChangedAt?: Date;
}

/** What a conditional transition expects to find: the state and episode it was decided from. */
export interface ReconcileExpect {
  state: AssignmentState;
  revision: number;
  stateChangedAt: Date;
  batchId: string | null;
  /** A drift check is queued for the due time it was read with, once. */
  nextVerifyAt?: Date;
}

function toReconcile(d: WinProfileAssignmentDoc): ReconcileAssignment {
  return {
    ...toAssignment(d),
    batchId: d.batchId ? d.batchId.toHexString() : null,
    step: d.step ?? null,
    reconcileAt: d.reconcileAt ?? null,
  };
}

/** States whose work starts once the planner set them (never claimed since). */
const FRESH_STATES: AssignmentState[] = [AssignmentState.Pending, AssignmentState.Removing];

/** States whose claim or open batch a sweep takes up again when its reconcileAt passed. */
const CLAIMED_STATES: AssignmentState[] = [
  AssignmentState.Pending,
  AssignmentState.Delivering,
  AssignmentState.Verifying,
  AssignmentState.Removing,
];

/** Reconciliation's reads and conditional writes on win_profile_assignments. */
@Injectable()
export class ReconcileRepository {
  constructor(
    @InjectModel(WinProfileAssignmentDoc.name)
    private readonly model: Model<WinProfileAssignmentDoc>,
    @InjectModel(WinDeviceDoc.name) private readonly devices: Model<WinDeviceDoc>,
  ) {}

  /**
   * Assignments with work to start (pending: deliver; removing: send the Deletes), never claimed
   * since the planner set the state, then (with `claims`) claims that ran out (a crashed
   * instance, an open batch due for its sweep). Bounded; served by (state, reconcileAt) and (state, step, reconcileAt).
   *
   * One query per state, the state a top-level equality: FerretDB 1.24 pushes down only those
   * (decisions.md §43, §53), so each query decodes the documents of one state where an `$in` of
   * states decoded the collection. A verified assignment holds a claim only while its drift
   * check is open (step `check`, an equality too), so in the steady state — everything verified,
   * nothing open — no query decodes a verified document. No sort: FerretDB sorts in Go after
   * decoding everything the pushed-down part selected, where without one the limit ends the read
   * at its last match. The order was only fairness among due work, and a pass's leftovers are
   * the next pass's: each claim moves reconcileAt past now, so what was taken is not due again.
   */
  async due(now: Date, limit: number, claims = true): Promise<ReconcileAssignment[]> {
    const found: WinProfileAssignmentDoc[] = [];
    const take = async (filter: FilterQuery<WinProfileAssignmentDoc>) => {
      if (found.length >= limit) return;
      const docs = await this.model
        .find(filter)
        .limit(limit - found.length)
        .lean<WinProfileAssignmentDoc[]>()
        .exec();
      found.push(...docs);
    };
    for (const state of FRESH_STATES) await take({ state, reconcileAt: null });
    if (!claims) return found.map(toReconcile);
    for (const state of CLAIMED_STATES) await take({ state, reconcileAt: { $lte: now } });
    await take({ state: AssignmentState.Verified, step: 'check', reconcileAt: { $lte: now } });
    return found.map(toReconcile);
  }

  /**
   * Verified assignments of one planning bucket whose re-read is due: the bucket and the state
   * are equalities FerretDB pushes down (it filters the bucket's verified assignments by
   * nextVerifyAt), and (planBucket, state, nextVerifyAt) serves it on MongoDB.
   */
  async dueChecks(planBucket: number, now: Date, limit: number): Promise<ReconcileAssignment[]> {
    const docs = await this.model
      .find({ planBucket, state: AssignmentState.Verified, nextVerifyAt: { $lte: now } })
      .limit(limit)
      .lean<WinProfileAssignmentDoc[]>()
      .exec();
    return docs.map(toReconcile);
  }

  /**
   * Due checks of assignments stored without a planning bucket (before §47; the backfill of §51
   * gives them one). `$exists` is not pushed down: this decodes every verified assignment, so it
   * runs once per walk of the buckets, and only while unpartitioned() says some are left.
   */
  async dueUnpartitionedChecks(now: Date, limit: number): Promise<ReconcileAssignment[]> {
    const docs = await this.model
      .find({
        planBucket: { $exists: false },
        state: AssignmentState.Verified,
        nextVerifyAt: { $lte: now },
      })
      .limit(limit)
      .lean<WinProfileAssignmentDoc[]>()
      .exec();
    return docs.map(toReconcile);
  }

  /** Whether any assignment has no planning bucket (decodes the collection when none has). */
  async unpartitioned(): Promise<boolean> {
    const doc = await this.model
      .findOne({ planBucket: { $exists: false } }, { _id: 1 })
      .lean()
      .exec();
    return doc !== null;
  }

  /** The device's assignments awaiting one of these batches (an outcome hook). */
  async awaiting(winDeviceId: string, batchIds: string[]): Promise<ReconcileAssignment[]> {
    if (!batchIds.length) return [];
    const docs = await this.model
      .find({
        winDeviceId: new Types.ObjectId(winDeviceId),
        batchId: { $in: batchIds.map((id) => new Types.ObjectId(id)) },
      })
      .lean<WinProfileAssignmentDoc[]>()
      .exec();
    return docs.map(toReconcile);
  }

  async find(orgId: string, id: string): Promise<ReconcileAssignment | null> {
    const doc = await this.model
      .findOne({ _id: id, organizationId: orgId })
      .lean<WinProfileAssignmentDoc>()
      .exec();
    return doc ? toReconcile(doc) : null;
  }

  /**
   * Takes the assignment until `until` if nobody else did since it was read: the lease is the
   * reconcileAt it was read with, compared and set in one conditional update.
   */
  async claim(a: ReconcileAssignment, until: Date): Promise<boolean> {
    const res = await this.model
      .updateOne(
        {
          _id: a.id,
          state: a.state,
          stateChangedAt: a.stateChangedAt,
          reconcileAt: a.reconcileAt,
        },
        { $set: { reconcileAt: until } },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /**
   * One conditional single-document update: applies only while the assignment is still in the
   * state, revision, episode and batch it was decided from, so a repeated or late decision
   * never applies twice and never overwrites a newer plan. Answers whether it applied.
   */
  async transition(id: string, from: ReconcileExpect, patch: ReconcilePatch): Promise<boolean> {
    const filter: FilterQuery<WinProfileAssignmentDoc> = {
      _id: id,
      state: from.state,
      revision: from.revision,
      stateChangedAt: from.stateChangedAt,
      batchId: from.batchId === null ? null : new Types.ObjectId(from.batchId),
    };
    if (from.nextVerifyAt) filter.nextVerifyAt = from.nextVerifyAt;
    const set: Record<string, unknown> = { ...patch };
    if (patch.batchId !== undefined)
      set.batchId = patch.batchId === null ? null : new Types.ObjectId(patch.batchId);
    const res = await this.model.updateOne(filter, { $set: set }).exec();
    return res.modifiedCount === 1;
  }

  /** A profile's assignments, optionally in one state (served by (profileId, state, winDeviceId)). */
  list(
    orgId: string,
    profileId: string,
    page: PageRequest,
    state?: AssignmentState,
    /** The count of matching assignments, when the caller has it (the profile's status does). */
    total?: Promise<number>,
  ): Promise<Page<ReconcileAssignment>> {
    const filter: FilterQuery<WinProfileAssignmentDoc> = {
      organizationId: new Types.ObjectId(orgId),
      profileId: new Types.ObjectId(profileId),
    };
    if (state) filter.state = state;
    return findPage(this.model, filter, page, toReconcile, undefined, total);
  }

  async forDevice(orgId: string, winDeviceId: string): Promise<ReconcileAssignment[]> {
    const docs = await this.model
      .find({ organizationId: orgId, winDeviceId })
      .sort({ profileId: 1 })
      .lean<WinProfileAssignmentDoc[]>()
      .exec();
    return docs.map(toReconcile);
  }

  async deliveryTarget(orgId: string, winDeviceId: string): Promise<DeliveryTarget | null> {
    const d = await this.devices
      .findOne(
        { _id: winDeviceId, organizationId: orgId },
        { organizationId: 1, winEnterpriseId: 1, mdmUserId: 1, status: 1, push: 1 },
      )
      .lean<WinDeviceDoc>()
      .exec();
    if (!d) return null;
    return {
      id: d._id.toHexString(),
      organizationId: d.organizationId.toHexString(),
      winEnterpriseId: d.winEnterpriseId.toHexString(),
      ...(d.mdmUserId && { mdmUserId: d.mdmUserId.toHexString() }),
      status: d.status,
      ...(d.push && { push: d.push }),
    };
  }
}
