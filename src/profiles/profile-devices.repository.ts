import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model, Types } from 'mongoose';
import { WinDeviceDoc } from '../devices/win-device.schema';
import { MAX_DEVICE_LABELS } from '../devices/devices.types';
import type { PlanSlice, ProfileTargets } from './profiles.types';
import { isAll, isDeviceList, labelsOf, TargetDevice } from './targeting';

/**
 * Targeting reads of `win_devices` (the devices module owns the documents; profiles only reads
 * ids and labels, and writes labels in bulk). Every device of the enterprise is a candidate,
 * whatever its status: an inactive device keeps its assignment and gets it when it comes back.
 */
export function targetFilter(
  winEnterpriseId: string,
  t: ProfileTargets,
): FilterQuery<WinDeviceDoc> {
  const base: FilterQuery<WinDeviceDoc> = { winEnterpriseId: new Types.ObjectId(winEnterpriseId) };
  if (isAll(t)) return base;
  if (isDeviceList(t))
    return { ...base, _id: { $in: t.deviceIds.map((id) => new Types.ObjectId(id)) } };
  const { labels, excludeLabels } = labelsOf(t);
  const and: FilterQuery<WinDeviceDoc>[] = [];
  if (labels.length) and.push({ labels: { $in: labels } });
  if (excludeLabels.length) and.push({ labels: { $nin: excludeLabels } });
  // `{}` targets (no label at all) reach nothing.
  if (!and.length) return { ...base, _id: { $in: [] } };
  return { ...base, $and: and };
}

@Injectable()
export class ProfileDevicesRepository {
  constructor(@InjectModel(WinDeviceDoc.name) private readonly model: Model<WinDeviceDoc>) {}

  count(winEnterpriseId: string, t: ProfileTargets): Promise<number> {
    return this.model.countDocuments(targetFilter(winEnterpriseId, t)).exec();
  }

  /**
   * The next batch of targeted device ids after `cursor` in one partition, in `_id` order. The
   * enterprise and the partition are top-level equalities, the only part of the filter FerretDB
   * pushes down: a page reads the partition's devices, not the enterprise's.
   */
  async idsAfter(
    winEnterpriseId: string,
    t: ProfileTargets,
    slice: PlanSlice,
    cursor: string | null,
    limit: number,
  ): Promise<string[]> {
    const q: FilterQuery<WinDeviceDoc> = targetFilter(winEnterpriseId, t);
    if (cursor) q.$and = [...(q.$and ?? []), { _id: { $gt: new Types.ObjectId(cursor) } }];
    if (slice) {
      // A partition holds about two batches: its ids are sorted here, so neither store sorts
      // (FerretDB would after reading them anyway) and the index needs no `_id` key.
      q[slice.field] = slice.value;
      const docs = await this.model.find(q, { _id: 1 }).lean<{ _id: Types.ObjectId }[]>().exec();
      return docs
        .map((d) => d._id.toHexString())
        .sort()
        .slice(0, limit);
    }
    const docs = await this.model
      .find(q, { _id: 1 })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<{ _id: Types.ObjectId }[]>()
      .exec();
    return docs.map((d) => d._id.toHexString());
  }

  /** Whether a device of the enterprise was written without partition fields (before they existed). */
  async anyUnpartitioned(winEnterpriseId: string): Promise<boolean> {
    const doc = await this.model
      .findOne(
        { winEnterpriseId: new Types.ObjectId(winEnterpriseId), planBucket: { $exists: false } },
        { _id: 1 },
      )
      .lean()
      .exec();
    return doc !== null;
  }

  /** Id and labels of these devices that belong to the enterprise (others are absent). */
  async labelsOf(winEnterpriseId: string, ids: string[]): Promise<TargetDevice[]> {
    if (!ids.length) return [];
    const docs = await this.model
      .find({ winEnterpriseId, _id: { $in: ids } }, { labels: 1 })
      .lean<{ _id: Types.ObjectId; labels?: string[] }[]>()
      .exec();
    return docs.map((d) => ({ id: d._id.toHexString(), labels: d.labels ?? [] }));
  }

  /** Whether any device of the enterprise is reached by both targets (the conflict probe). */
  async anyReachedByBoth(
    winEnterpriseId: string,
    a: ProfileTargets,
    b: ProfileTargets,
  ): Promise<boolean> {
    const doc = await this.model
      .findOne(
        { $and: [targetFilter(winEnterpriseId, a), targetFilter(winEnterpriseId, b)] },
        {
          _id: 1,
        },
      )
      .lean()
      .exec();
    return doc !== null;
  }

  /**
   * Adds or removes one label on these devices of the enterprise; answers how many changed.
   * Callers chunk the ids (≤ 1,000 a write).
   */
  async addLabel(winEnterpriseId: string, ids: string[], label: string): Promise<number> {
    // `labels.<n>` names an array position in the filter: a device already at the limit (a
    // racing PATCH) is left as it is rather than pushed past it.
    if (!ids.length) return 0;
    const res = await this.model
      .updateMany(
        {
          winEnterpriseId,
          _id: { $in: ids },
          labels: { $ne: label },
          [`labels.${MAX_DEVICE_LABELS - 1}`]: { $exists: false },
        },
        {
          $addToSet: { labels: label },
        },
      )
      .exec();
    return res.modifiedCount;
  }

  async removeLabel(winEnterpriseId: string, ids: string[], label: string): Promise<number> {
    if (!ids.length) return 0;
    const res = await this.model
      .updateMany(
        { winEnterpriseId, _id: { $in: ids }, labels: label },
        { $pull: { labels: label } },
      )
      .exec();
    return res.modifiedCount;
  }
}
