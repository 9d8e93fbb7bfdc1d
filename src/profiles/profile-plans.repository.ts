import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { WinProfilePlanDoc } from './win-profile-plan.schema';
import { PlanLevel, PlanPhase, ProfilePlan } from './profiles.types';

const FREE = new Date(0);
export const WHOLE_PROFILE = 'profile';

function toPlan(d: WinProfilePlanDoc): ProfilePlan {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winEnterpriseId: d.winEnterpriseId.toHexString(),
    profileId: d.profileId.toHexString(),
    revision: d.revision,
    deviceIds: d.deviceIds ? d.deviceIds.map((id) => id.toHexString()) : null,
    phase: d.phase,
    cursor: d.cursor ?? null,
    level: d.level ?? null,
    part: d.part ?? 0,
    total: d.total,
    processed: d.processed,
    leaseOwner: d.leaseOwner ?? null,
    leaseUntil: d.leaseUntil ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export interface NewPlan {
  organizationId: string;
  winEnterpriseId: string;
  profileId: string;
  revision: number;
  deviceIds: string[] | null;
  total: number;
}

@Injectable()
export class ProfilePlansRepository {
  constructor(
    @InjectModel(WinProfilePlanDoc.name) private readonly model: Model<WinProfilePlanDoc>,
  ) {}

  /**
   * Stores a plan. A whole-profile plan replaces the profile's previous one (restarting from
   * the first device, with the lease freed): the newer revision decides for every device anyway.
   */
  async save(p: NewPlan): Promise<void> {
    const reset = {
      organizationId: p.organizationId,
      winEnterpriseId: p.winEnterpriseId,
      revision: p.revision,
      deviceIds: p.deviceIds,
      phase: PlanPhase.Reach,
      cursor: null,
      level: null,
      part: 0,
      total: p.total,
      processed: 0,
      leaseOwner: null,
      leaseUntil: FREE,
    };
    if (p.deviceIds) {
      await this.model.create({
        ...reset,
        profileId: p.profileId,
        key: `devices:${new Types.ObjectId().toHexString()}`,
      });
      return;
    }
    await this.model
      .updateOne({ profileId: p.profileId, key: WHOLE_PROFILE }, { $set: reset }, { upsert: true })
      .exec();
  }

  /** Takes the oldest plan whose lease is free or expired (a dead planner's plan is resumed). */
  async claim(owner: string, now: Date, leaseMs: number): Promise<ProfilePlan | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { leaseUntil: { $lte: now } },
        { $set: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) } },
        { new: true, sort: { leaseUntil: 1, createdAt: 1 } },
      )
      .lean<WinProfilePlanDoc>()
      .exec();
    return doc ? toPlan(doc) : null;
  }

  /**
   * Stores a batch's progress, conditional on still holding the lease on the same plan
   * revision and phase/cursor read: a plan replaced meanwhile is not overwritten. Renews the
   * lease. False when the plan was replaced or taken.
   */
  async advance(
    plan: ProfilePlan,
    owner: string,
    next: {
      phase: PlanPhase;
      level: PlanLevel | null;
      part: number;
      cursor: string | null;
      processed: number;
    },
    leaseUntil: Date,
  ): Promise<boolean> {
    const res = await this.model
      .updateOne(
        {
          _id: plan.id,
          leaseOwner: owner,
          revision: plan.revision,
          phase: plan.phase,
          level: plan.level,
          // A plan stored before partitions existed has neither field (null matches missing).
          ...(plan.level !== null && { part: plan.part }),
          cursor: plan.cursor,
        },
        { $set: { ...next, leaseUntil } },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /** Done: removed unless it was replaced (then the replacement runs). */
  async finish(plan: ProfilePlan, owner: string): Promise<boolean> {
    const res = await this.model
      .deleteOne({ _id: plan.id, leaseOwner: owner, revision: plan.revision, phase: plan.phase })
      .exec();
    return res.deletedCount === 1;
  }

  /** Gives the lease back (shutdown): another pass resumes from the stored cursor. */
  async release(plan: ProfilePlan, owner: string): Promise<void> {
    await this.model
      .updateOne(
        { _id: plan.id, leaseOwner: owner },
        { $set: { leaseOwner: null, leaseUntil: FREE } },
      )
      .exec();
  }

  async pendingFor(profileId: string): Promise<ProfilePlan[]> {
    const docs = await this.model.find({ profileId }).lean<WinProfilePlanDoc[]>().exec();
    return docs.map(toPlan);
  }

  async count(): Promise<number> {
    return this.model.countDocuments({}).exec();
  }
}
