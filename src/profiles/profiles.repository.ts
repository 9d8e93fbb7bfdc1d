import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { findPage } from '../common/mongo/find-page';
import { Page, PageRequest } from '../common/pagination/pagination';
import { WinProfileDoc } from './win-profile.schema';
import type {
  OnRemove,
  ProfileScope,
  ProfileSetting,
  ProfileTargets,
  WinProfile,
} from './profiles.types';
import { targetLabelsOf } from './targeting';

function toProfile(d: WinProfileDoc): WinProfile {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winEnterpriseId: d.winEnterpriseId.toHexString(),
    name: d.name,
    description: d.description ?? null,
    scope: d.scope,
    settings: d.settings ?? [],
    atomic: d.atomic === true,
    onRemove: d.onRemove,
    targets: d.targets,
    revision: d.revision,
    contentRevision: d.contentRevision ?? 1,
    deletedAt: d.deletedAt ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export interface ProfileContent {
  name: string;
  description: string | null;
  scope: ProfileScope;
  settings: ProfileSetting[];
  atomic: boolean;
  onRemove: OnRemove;
  targets: ProfileTargets;
}

/** The indexed copies the conflict check and label re-planning query by. */
function derived(c: Partial<ProfileContent>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c.name !== undefined) out.nameKey = c.name;
  if (c.settings) out.settingPaths = c.settings.map((s) => s.path);
  if (c.targets) out.targetLabels = targetLabelsOf(c.targets);
  return out;
}

const LIVE = { deletedAt: null };

@Injectable()
export class ProfilesRepository {
  constructor(@InjectModel(WinProfileDoc.name) private readonly model: Model<WinProfileDoc>) {}

  /** Throws a duplicate-key error when the name is taken in the enterprise. */
  async create(orgId: string, winEnterpriseId: string, c: ProfileContent): Promise<WinProfile> {
    const doc = await this.model.create({
      ...c,
      ...derived(c),
      organizationId: orgId,
      winEnterpriseId,
      revision: 1,
      contentRevision: 1,
      deletedAt: null,
    });
    return toProfile(doc.toObject());
  }

  /** A live profile (not deleted) of the organization. */
  async find(orgId: string, id: string): Promise<WinProfile | null> {
    const doc = await this.model
      .findOne({ _id: id, organizationId: orgId, ...LIVE })
      .lean<WinProfileDoc>()
      .exec();
    return doc ? toProfile(doc) : null;
  }

  /** The profile even when deleted: the planner and reconciliation need its settings to remove them. */
  async findAny(id: string): Promise<WinProfile | null> {
    const doc = await this.model.findById(id).lean<WinProfileDoc>().exec();
    return doc ? toProfile(doc) : null;
  }

  list(orgId: string, winEnterpriseId: string, page: PageRequest): Promise<Page<WinProfile>> {
    return findPage(
      this.model,
      { organizationId: orgId, winEnterpriseId, ...LIVE },
      page,
      toProfile,
    );
  }

  /**
   * A new revision, conditional on the one the caller read: two updates at once cannot both
   * build on the same revision. Null when it lost (or the profile is gone). Throws duplicate-key
   * when renamed onto a taken name.
   */
  async update(
    orgId: string,
    id: string,
    fromRevision: number,
    patch: Partial<ProfileContent>,
    contentChanged: boolean,
  ): Promise<WinProfile | null> {
    const set: Record<string, unknown> = { ...patch, ...derived(patch) };
    if (contentChanged) set.contentRevision = fromRevision + 1;
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, organizationId: orgId, revision: fromRevision, ...LIVE },
        { $set: set, $inc: { revision: 1 } },
        { new: true },
      )
      .lean<WinProfileDoc>()
      .exec();
    return doc ? toProfile(doc) : null;
  }

  /** Soft delete: frees the name; the document stays until its devices are done with it. */
  async markDeleted(orgId: string, id: string, now: Date): Promise<WinProfile | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, organizationId: orgId, ...LIVE },
        { $set: { deletedAt: now, nameKey: `deleted:${id}` } },
        { new: true },
      )
      .lean<WinProfileDoc>()
      .exec();
    return doc ? toProfile(doc) : null;
  }

  /** Live profiles of the enterprise naming any of these labels (in labels or excludeLabels). */
  async targetingLabels(winEnterpriseId: string, labels: string[]): Promise<WinProfile[]> {
    if (!labels.length) return [];
    const docs = await this.model
      .find({ winEnterpriseId, targetLabels: { $in: labels }, ...LIVE })
      .lean<WinProfileDoc[]>()
      .exec();
    return docs.map(toProfile);
  }

  /** Live profiles of the enterprise setting any of these paths (the conflict candidates). */
  async settingAnyPath(
    winEnterpriseId: string,
    paths: string[],
    exceptId?: string,
  ): Promise<WinProfile[]> {
    if (!paths.length) return [];
    const filter: Record<string, unknown> = {
      winEnterpriseId,
      settingPaths: { $in: paths },
      ...LIVE,
    };
    if (exceptId) filter._id = { $ne: new Types.ObjectId(exceptId) };
    const docs = await this.model.find(filter).lean<WinProfileDoc[]>().exec();
    return docs.map(toProfile);
  }

  /** Deleted profiles, oldest first: the planner purges those no device still uses. */
  async deleted(limit: number): Promise<WinProfile[]> {
    const docs = await this.model
      .find({ deletedAt: { $ne: null } })
      .sort({ deletedAt: 1 })
      .limit(limit)
      .lean<WinProfileDoc[]>()
      .exec();
    return docs.map(toProfile);
  }

  async purge(id: string): Promise<void> {
    await this.model.deleteOne({ _id: id, deletedAt: { $ne: null } }).exec();
  }
}
