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

/** States whose open batch a sweep settles (verified: a drift check in flight). */
const OPEN_STATES: AssignmentState[] = [
  AssignmentState.Pending,
  AssignmentState.Delivering,
  AssignmentState.Verifying,
  AssignmentState.Removing,
  AssignmentState.Verified,
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
   * since the planner set the state, then claims that ran out (a crashed instance, an open batch
   * due for its sweep). Bounded; served by (state, reconcileAt).
   */
  async due(now: Date, limit: number): Promise<ReconcileAssignment[]> {
    const fresh = await this.model
      .find({
        state: { $in: [AssignmentState.Pending, AssignmentState.Removing] },
        reconcileAt: null,
      })
      .limit(limit)
      .lean<WinProfileAssignmentDoc[]>()
      .exec();
    if (fresh.length >= limit) return fresh.map(toReconcile);
    const expired = await this.model
      .find({ state: { $in: OPEN_STATES }, reconcileAt: { $lte: now } })
      .sort({ reconcileAt: 1 })
      .limit(limit - fresh.length)
      .lean<WinProfileAssignmentDoc[]>()
      .exec();
    return [...fresh, ...expired].map(toReconcile);
  }

  /** Verified assignments whose re-read is due (served by (state, nextVerifyAt)). */
  async dueChecks(now: Date, limit: number): Promise<ReconcileAssignment[]> {
    const docs = await this.model
      .find({ state: AssignmentState.Verified, nextVerifyAt: { $lte: now } })
      .sort({ nextVerifyAt: 1 })
      .limit(limit)
      .lean<WinProfileAssignmentDoc[]>()
      .exec();
    return docs.map(toReconcile);
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
  ): Promise<Page<ReconcileAssignment>> {
    const filter: FilterQuery<WinProfileAssignmentDoc> = {
      organizationId: new Types.ObjectId(orgId),
      profileId: new Types.ObjectId(profileId),
    };
    if (state) filter.state = state;
    return findPage(this.model, filter, page, toReconcile);
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
