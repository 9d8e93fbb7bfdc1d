import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, Model, Types } from 'mongoose';
import { bulkWriteInChunks } from '../common/mongo/bulk-updates';
import { onlyDuplicateKeys } from '../common/mongo/mongo-errors';
import { WinProfileAssignmentDoc } from './win-profile-assignment.schema';
import { planFieldsOf } from '../devices/plan-bucket';
import {
  APPLIED_STATES,
  AssignmentState,
  OnRemove,
  PlanSlice,
  WinProfileAssignment,
} from './profiles.types';

export function toAssignment(d: WinProfileAssignmentDoc): WinProfileAssignment {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winEnterpriseId: d.winEnterpriseId.toHexString(),
    profileId: d.profileId.toHexString(),
    winDeviceId: d.winDeviceId.toHexString(),
    revision: d.revision,
    state: d.state,
    settings: d.settings ?? [],
    stateChangedAt: d.stateChangedAt,
    nextVerifyAt: d.nextVerifyAt ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** What planning needs to know about an existing assignment. */
export interface AssignmentHead {
  winDeviceId: string;
  revision: number;
  state: AssignmentState;
}

export interface PlanScope {
  organizationId: string;
  winEnterpriseId: string;
  profileId: string;
}

/** The profile's assignments in one partition (a top-level equality FerretDB pushes down). */
function inSlice(profileId: string, slice: PlanSlice): Record<string, unknown> {
  const filter: Record<string, unknown> = { profileId: new Types.ObjectId(profileId) };
  if (slice) filter[slice.field] = slice.value;
  return filter;
}

/** A new episode for reconciliation: no batch awaited, no claim (it starts at its next pass). */
const RECONCILE_RESET = { batchId: null, step: null, reconcileAt: null };

const RETIRED: AssignmentState[] = [AssignmentState.Removing, AssignmentState.Removed];

@Injectable()
export class ProfileAssignmentsRepository {
  constructor(
    @InjectModel(WinProfileAssignmentDoc.name)
    private readonly model: Model<WinProfileAssignmentDoc>,
  ) {}

  /** Heads of these devices' assignments; `slice`: the partition all of them are in. */
  async heads(
    profileId: string,
    winDeviceIds: string[],
    slice: PlanSlice = null,
  ): Promise<AssignmentHead[]> {
    if (!winDeviceIds.length) return [];
    const docs = await this.model
      .find(
        { ...inSlice(profileId, slice), winDeviceId: { $in: winDeviceIds } },
        { winDeviceId: 1, revision: 1, state: 1 },
      )
      .lean<Pick<WinProfileAssignmentDoc, 'winDeviceId' | 'revision' | 'state'>[]>()
      .exec();
    return docs.map((d) => ({
      winDeviceId: d.winDeviceId.toHexString(),
      revision: d.revision,
      state: d.state,
    }));
  }

  /**
   * The profile reaches these devices at `revision`: new assignments are inserted `pending`;
   * retired ones, and ones older than `contentRevision`, go back to `pending`; ones between
   * only take the new revision number (same settings) and keep their state. Each update is
   * conditional on the head read, so a racing reconciliation keeps its newer state. Answers
   * how many documents it wrote.
   */
  async reach(
    scope: PlanScope,
    revision: number,
    contentRevision: number,
    winDeviceIds: string[],
    existing: AssignmentHead[],
    now: Date,
  ): Promise<number> {
    const byDevice = new Map(existing.map((h) => [h.winDeviceId, h]));
    const inserts = winDeviceIds
      .filter((id) => !byDevice.has(id))
      .map((id) => ({
        organizationId: scope.organizationId,
        winEnterpriseId: scope.winEnterpriseId,
        profileId: scope.profileId,
        winDeviceId: id,
        ...planFieldsOf(id),
        revision,
        state: AssignmentState.Pending,
        settings: [],
        stateChangedAt: now,
        nextVerifyAt: null,
      }));
    const updates: AnyBulkWriteOperation<WinProfileAssignmentDoc>[] = existing
      .filter((h) => h.revision < revision || RETIRED.includes(h.state))
      .map((h) => {
        const resend = h.revision < contentRevision || RETIRED.includes(h.state);
        const set = resend
          ? {
              revision,
              state: AssignmentState.Pending,
              stateChangedAt: now,
              nextVerifyAt: null,
              ...RECONCILE_RESET,
            }
          : { revision };
        return {
          updateOne: {
            filter: {
              profileId: new Types.ObjectId(scope.profileId),
              winDeviceId: new Types.ObjectId(h.winDeviceId),
              revision: h.revision,
              state: h.state,
            },
            update: { $set: set },
          },
        };
      });
    let written = 0;
    if (inserts.length) {
      try {
        written += (await this.model.insertMany(inserts, { ordered: false })).length;
      } catch (e) {
        // A racing plan inserted the same (device, profile): it is reached either way.
        if (!onlyDuplicateKeys(e)) throw e;
      }
    }
    // A revision's batch updates up to a batch of assignments: in bounded commands on FerretDB.
    written += await bulkWriteInChunks(updates, (c) => this.model.bulkWrite(c, { ordered: false }));
    return written;
  }

  /**
   * The profile no longer reaches these devices: applied assignments go to `removing`
   * (onRemove delete: reconciliation sends the Deletes) or straight to `removed` (keep).
   */
  async retire(
    profileId: string,
    winDeviceIds: string[],
    onRemove: OnRemove,
    now: Date,
    /** Only assignments below this revision: one a racing plan just reached stays. */
    belowRevision?: number,
    /** The partition all of the devices are in. */
    slice: PlanSlice = null,
  ): Promise<number> {
    if (!winDeviceIds.length) return 0;
    const state = onRemove === 'delete' ? AssignmentState.Removing : AssignmentState.Removed;
    const filter: Record<string, unknown> = {
      ...inSlice(profileId, slice),
      winDeviceId: { $in: winDeviceIds },
      state: { $in: APPLIED_STATES },
    };
    if (belowRevision !== undefined) filter.revision = { $lt: belowRevision };
    const res = await this.model
      .updateMany(filter, {
        $set: { state, stateChangedAt: now, nextVerifyAt: null, ...RECONCILE_RESET },
      })
      .exec();
    return res.modifiedCount;
  }

  /**
   * Up to `limit` devices the profile is applied to at a revision below `belowRevision` (all
   * applied ones when null): after a plan's reach pass every device it reaches carries the
   * current revision, so these are the ones it no longer reaches. Retiring them removes them
   * from the set, so the next call needs no cursor.
   */
  async staleDeviceIds(
    profileId: string,
    belowRevision: number | null,
    limit: number,
    slice: PlanSlice = null,
  ): Promise<string[]> {
    const filter: Record<string, unknown> = {
      ...inSlice(profileId, slice),
      state: { $in: APPLIED_STATES },
    };
    if (belowRevision !== null) filter.revision = { $lt: belowRevision };
    const docs = await this.model
      .find(filter, { winDeviceId: 1 })
      .limit(limit)
      .lean<Pick<WinProfileAssignmentDoc, 'winDeviceId'>[]>()
      .exec();
    return docs.map((d) => d.winDeviceId.toHexString());
  }

  /** Whether an assignment of the profile was written without partition fields. */
  async anyUnpartitioned(profileId: string): Promise<boolean> {
    const doc = await this.model
      .findOne(
        { profileId: new Types.ObjectId(profileId), planBucket: { $exists: false } },
        { _id: 1 },
      )
      .lean()
      .exec();
    return doc !== null;
  }

  /** Assignments in an applied state: what deleting the profile retires. */
  async countApplied(profileId: string): Promise<number> {
    return this.model.countDocuments({ profileId, state: { $in: APPLIED_STATES } }).exec();
  }

  /** Assignments not yet `removed`: a deleted profile stays while any remain. */
  async countUnfinished(profileId: string): Promise<number> {
    return this.model.countDocuments({ profileId, state: { $ne: AssignmentState.Removed } }).exec();
  }

  async countByState(profileId: string): Promise<Partial<Record<AssignmentState, number>>> {
    const rows = await this.model
      .aggregate<{ _id: AssignmentState; n: number }>([
        { $match: { profileId: new Types.ObjectId(profileId) } },
        { $group: { _id: '$state', n: { $sum: 1 } } },
      ])
      .exec();
    return Object.fromEntries(rows.map((r) => [r._id, r.n]));
  }

  async forDevice(winDeviceId: string): Promise<WinProfileAssignment[]> {
    const docs = await this.model.find({ winDeviceId }).lean<WinProfileAssignmentDoc[]>().exec();
    return docs.map(toAssignment);
  }

  async deleteForProfile(profileId: string): Promise<void> {
    await this.model.deleteMany({ profileId }).exec();
  }
}
