import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Db } from 'mongodb';
import { AnyBulkWriteOperation, Connection, Model, Types } from 'mongoose';
import { releaseJobLease, takeJobLease } from '../common/mongo/instance-lease';
import { UPDATES_PER_COMMAND } from '../common/mongo/bulk-updates';
import { isDuplicateKey, onlyDuplicateKeys } from '../common/mongo/mongo-errors';
import { LabelTally, targetCountId } from './target-counts';
import { TargetCountDoc } from './target-count.schema';
import { WinDeviceDoc } from './win-device.schema';
import { WinEnterpriseDoc } from './win-enterprise.schema';

/** Devices the recount reads per round trip. */
const TALLY_BATCH = 1000;

/** An enterprise's counts as a profile write reads them. */
export interface StoredTargetCounts {
  all: number;
  /** Every label asked for: a label no device ever carried counts 0. */
  labels: Map<string, number>;
}

/**
 * The `win_target_counts` counters (docs/decisions.md §49). Every read and write names counters
 * by `_id`, the one key FerretDB 1.24 finds without decoding the collection.
 */
@Injectable()
export class TargetCountsRepository {
  private readonly log = new Logger(TargetCountsRepository.name);

  constructor(
    @InjectModel(TargetCountDoc.name) private readonly model: Model<TargetCountDoc>,
    @InjectModel(WinDeviceDoc.name) private readonly devices: Model<WinDeviceDoc>,
    @InjectModel(WinEnterpriseDoc.name) private readonly enterprises: Model<WinEnterpriseDoc>,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  /** A new enterprise has no device: its counts are exact from the start. */
  async enterpriseCreated(winEnterpriseId: string, now: Date): Promise<void> {
    await this.model
      .create({
        _id: targetCountId(winEnterpriseId, null),
        winEnterpriseId,
        label: null,
        devices: 0,
        seq: 0,
        countedAt: now,
      })
      .catch((e: unknown) => {
        if (!isDuplicateKey(e)) throw e;
      });
  }

  /**
   * Applies these changes (`null`: all devices), one round trip per UPDATES_PER_COMMAND counters,
   * after the device writes that made them. A failure is logged, not thrown: the device write
   * stands, and the drift is the recount's to repair.
   */
  async bump(winEnterpriseId: string, deltas: ReadonlyMap<string | null, number>): Promise<void> {
    const changed = [...deltas].filter(([, n]) => n !== 0);
    if (!changed.length) return;
    const ops = changed.map(([label, n]) => ({
      updateOne: {
        filter: { _id: targetCountId(winEnterpriseId, label) },
        update: {
          $inc: { devices: n, seq: 1 },
          $setOnInsert: { winEnterpriseId: new Types.ObjectId(winEnterpriseId), label },
        },
        upsert: true,
      },
    }));
    // In chunks: FerretDB holds a PostgreSQL connection per statement of a command (§51), and a
    // PATCH replacing 50 labels with 50 others changes 100 counters.
    for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND) {
      if (!(await this.bumpChunk(winEnterpriseId, ops.slice(i, i + UPDATES_PER_COMMAND)))) return;
    }
  }

  /** One ordered bulk write of counter bumps; false (logged) when it failed for good. */
  private async bumpChunk(
    winEnterpriseId: string,
    ops: AnyBulkWriteOperation<TargetCountDoc>[],
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.model.bulkWrite(ops, { ordered: true });
        return true;
      } catch (e) {
        // Two first upserts of one counter: the loser's insert hits the unique `_id`. Ordered,
        // the ops before it were applied; the next attempt only $incs the rest onto the winner's.
        const failed = (e as { writeErrors?: { index: number }[] }).writeErrors?.[0]?.index;
        if (attempt === 0 && failed !== undefined && onlyDuplicateKeys(e)) {
          ops = ops.slice(failed);
          continue;
        }
        this.log.warn(
          `target counts of enterprise ${winEnterpriseId} not updated (the recount repairs them): ${(e as Error).message}`,
        );
        return false;
      }
    }
  }

  /** The enterprise's counts, or null when they were never counted (fall back to the devices). */
  async read(
    winEnterpriseId: string,
    labels: readonly string[],
  ): Promise<StoredTargetCounts | null> {
    const one = (label: string | null) =>
      this.model
        .findOne({ _id: targetCountId(winEnterpriseId, label) }, { devices: 1, countedAt: 1 })
        .lean<Pick<TargetCountDoc, 'devices' | 'countedAt'>>()
        .exec();
    const [all, ...each] = await Promise.all([one(null), ...labels.map(one)]);
    if (!all?.countedAt) return null;
    return {
      all: all.devices,
      labels: new Map(labels.map((l, i) => [l, each[i]?.devices ?? 0])),
    };
  }

  async countedAt(winEnterpriseId: string): Promise<Date | null> {
    const doc = await this.model
      .findOne({ _id: targetCountId(winEnterpriseId, null) }, { countedAt: 1 })
      .lean<Pick<TargetCountDoc, 'countedAt'>>()
      .exec();
    return doc?.countedAt ?? null;
  }

  /** Every counter of the enterprise: label (null: all devices) → seq. */
  async seqs(winEnterpriseId: string): Promise<Map<string | null, number>> {
    const docs = await this.model
      .find({ winEnterpriseId: new Types.ObjectId(winEnterpriseId) }, { label: 1, seq: 1 })
      .lean<Pick<TargetCountDoc, 'label' | 'seq'>[]>()
      .exec();
    return new Map(docs.map((d) => [d.label ?? null, d.seq]));
  }

  /** The truth: every device of the enterprise, its labels only, streamed in batches. */
  async tally(winEnterpriseId: string): Promise<LabelTally> {
    const tally = new LabelTally();
    const cursor = this.devices
      .find({ winEnterpriseId: new Types.ObjectId(winEnterpriseId) }, { _id: 0, labels: 1 })
      .lean<{ labels?: string[] }>()
      .batchSize(TALLY_BATCH)
      .cursor();
    for await (const d of cursor) tally.add(d.labels);
    return tally;
  }

  /**
   * Sets a counter to `devices` if its seq is still `seq` (null: if it still does not exist);
   * true when written. A change counted meanwhile wins: its device may not be in the tally.
   */
  async setIfUnchanged(
    winEnterpriseId: string,
    label: string | null,
    seq: number | null,
    devices: number,
    countedAt?: Date,
  ): Promise<boolean> {
    const _id = targetCountId(winEnterpriseId, label);
    if (seq === null) {
      try {
        await this.model.create({
          _id,
          winEnterpriseId,
          label,
          devices,
          seq: 1,
          ...(countedAt && { countedAt }),
        });
        return true;
      } catch (e) {
        if (isDuplicateKey(e)) return false;
        throw e;
      }
    }
    const res = await this.model
      .updateOne(
        { _id, seq },
        { $set: { devices, ...(countedAt && { countedAt }) }, $inc: { seq: 1 } },
      )
      .exec();
    return res.matchedCount === 1;
  }

  /** Enterprise ids after `afterId`, in `_id` order. */
  async enterpriseIds(afterId: string | null, limit: number): Promise<string[]> {
    const docs = await this.enterprises
      .find(afterId ? { _id: { $gt: new Types.ObjectId(afterId) } } : {}, { _id: 1 })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<{ _id: Types.ObjectId }[]>()
      .exec();
    return docs.map((d) => d._id.toHexString());
  }

  takeLease(job: string, holder: string, leaseMs: number, now: Date): Promise<boolean> {
    return takeJobLease(this.connection.db as Db, job, holder, leaseMs, now);
  }

  async releaseLease(job: string, holder: string): Promise<void> {
    await releaseJobLease(this.connection.db as Db, job, holder);
  }
}
