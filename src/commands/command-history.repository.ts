import { Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Db } from 'mongodb';
import { Connection, Model, Types } from 'mongoose';
import { bulkWriteInChunks } from '../common/mongo/bulk-updates';
import { releaseJobLease, takeJobLease } from '../common/mongo/instance-lease';
import { CommandStatus } from './command-status';
import { WinCommandBatchDoc } from './win-command-batch.schema';
import { WinCommandDoc } from './win-command.schema';

/** Never history: queued, or sent and not finished. */
const LIVE = [CommandStatus.Pending, CommandStatus.Awaiting];

/**
 * History retention: finished commands past the retention, and the batches they leave empty.
 * A document whose webhook events are not relayed yet (`outboxAt` set) is kept until they are.
 */
@Injectable()
export class CommandHistoryRepository {
  constructor(
    @InjectModel(WinCommandDoc.name) private readonly commands: Model<WinCommandDoc>,
    @InjectModel(WinCommandBatchDoc.name) private readonly batches: Model<WinCommandBatchDoc>,
    @InjectConnection() private readonly connection: Connection,
  ) {}

  /**
   * Up to `limit` finished commands that finished before `cutoff`, by the receivedAt and
   * canceledAt indexes: their ids and batches.
   */
  async finishedBefore(
    cutoff: Date,
    limit: number,
  ): Promise<{ ids: Types.ObjectId[]; batchIds: Types.ObjectId[] }> {
    const found: Pick<WinCommandDoc, '_id' | 'batchId'>[] = [];
    for (const field of ['receivedAt', 'canceledAt'] as const) {
      if (found.length >= limit) break;
      const docs = await this.commands
        .find({
          [field]: { $lt: cutoff },
          status: { $nin: LIVE },
          outboxAt: { $exists: false },
        })
        .select({ _id: 1, batchId: 1 })
        .limit(limit - found.length)
        .lean<Pick<WinCommandDoc, '_id' | 'batchId'>[]>()
        .exec();
      found.push(...docs);
    }
    const batchIds = new Map(found.map((d) => [d.batchId.toHexString(), d.batchId]));
    return { ids: found.map((d) => d._id), batchIds: [...batchIds.values()] };
  }

  /** Deletes the listed commands, each only while still finished. */
  async deleteFinished(ids: Types.ObjectId[]): Promise<number> {
    if (!ids.length) return 0;
    const res = await this.commands
      .deleteMany({ _id: { $in: ids }, status: { $nin: LIVE } })
      .exec();
    return res.deletedCount;
  }

  /**
   * Of the listed batches, deletes those with no command left and forgets the kept counts of the
   * others; answers how many it deleted.
   */
  async deleteEmptyBatches(batchIds: Types.ObjectId[]): Promise<number> {
    if (!batchIds.length) return 0;
    const left = await this.commands
      .aggregate<{ _id: Types.ObjectId }>([
        { $match: { batchId: { $in: batchIds } } },
        { $group: { _id: '$batchId' } },
      ])
      .exec();
    const keep = new Set(left.map((r) => r._id.toHexString()));
    // A batch that lost some commands no longer has the counts it kept, and a new epoch, so that
    // counts a list read took before the deletes cannot be stored after them (decisions.md §46);
    // one update per batch by _id, which FerretDB pushes down (an `$in` it would not), no updatedAt.
    const kept = batchIds.filter((id) => keep.has(id.toHexString()));
    // Up to RETENTION_BATCH statements: in commands of 20, since FerretDB holds a PostgreSQL
    // connection per statement of a command (bulk-updates.ts, decisions.md §51).
    await bulkWriteInChunks(
      kept.map((_id) => ({
        updateOne: {
          filter: { _id },
          update: { $unset: { finalSummary: 1 }, $inc: { summaryEpoch: 1 } },
        },
      })),
      (chunk) => this.batches.collection.bulkWrite(chunk, { ordered: false }),
    );
    const empty = batchIds.filter((id) => !keep.has(id.toHexString()));
    if (!empty.length) return 0;
    const res = await this.batches
      .deleteMany({ _id: { $in: empty }, outboxAt: { $exists: false } })
      .exec();
    return res.deletedCount;
  }

  /** The retention job's lease (common/mongo/instance-lease.ts): one instance deletes at a time. */
  takeLease(job: string, holder: string, leaseMs: number, now: Date): Promise<boolean> {
    return takeJobLease(this.connection.db as Db, job, holder, leaseMs, now);
  }

  async releaseLease(job: string, holder: string): Promise<void> {
    await releaseJobLease(this.connection.db as Db, job, holder);
  }
}
