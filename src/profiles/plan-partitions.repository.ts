import { Injectable } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import type { Db } from 'mongodb';
import { AnyBulkWriteOperation, Connection, Model, Types } from 'mongoose';
import { bulkWriteInChunks } from '../common/mongo/bulk-updates';
import { releaseJobLease, takeJobLease } from '../common/mongo/instance-lease';
import { ReadModels } from '../common/mongo/read-pool';
import { planFieldsOf } from '../devices/plan-bucket';
import { WinDeviceDoc } from '../devices/win-device.schema';
import { WinProfileAssignmentDoc } from './win-profile-assignment.schema';

/** One document per finished store migration, by name: read by `_id`, an equality every store pushes down. */
export const STORE_MIGRATIONS_COLLECTION = 'store_migrations';

export interface MigrationMark {
  _id: string;
  finishedAt: Date;
  counts: Record<string, number>;
}

/** The collections whose documents carry a planning partition (devices/plan-bucket.ts). */
export type PartitionedKind = 'devices' | 'assignments';

/** A legacy document: its `_id`, and the device id its partition derives from. */
export interface LegacyDoc {
  id: Types.ObjectId;
  deviceId: string;
}

/** Documents written before the partition fields existed: the filter FerretDB cannot push down. */
const LEGACY = { planBucket: { $exists: false } };

/**
 * The stores of the planning-partition backfill (decisions.md §51): its scans for legacy
 * devices and assignments, its conditional writes, its lease and its completion mark.
 */
@Injectable()
export class PlanPartitionsRepository {
  private readonly readDevices: Model<WinDeviceDoc>;
  private readonly readAssignments: Model<WinProfileAssignmentDoc>;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    @InjectModel(WinDeviceDoc.name) private readonly devices: Model<WinDeviceDoc>,
    @InjectModel(WinProfileAssignmentDoc.name)
    private readonly assignments: Model<WinProfileAssignmentDoc>,
    reads: ReadModels,
  ) {
    this.readDevices = reads.of(devices);
    this.readAssignments = reads.of(assignments);
  }

  private get db(): Db {
    return this.connection.db as Db;
  }

  async mark(name: string): Promise<MigrationMark | null> {
    return this.db.collection<MigrationMark>(STORE_MIGRATIONS_COLLECTION).findOne({ _id: name });
  }

  async setMark(name: string, counts: Record<string, number>, now: Date): Promise<void> {
    await this.db
      .collection<MigrationMark>(STORE_MIGRATIONS_COLLECTION)
      .updateOne({ _id: name }, { $set: { finishedAt: now, counts } }, { upsert: true });
  }

  takeLease(job: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    return takeJobLease(this.db, job, holder, ttlMs, now);
  }

  releaseLease(job: string, holder: string): Promise<void> {
    return releaseJobLease(this.db, job, holder);
  }

  /**
   * The legacy documents of one collection, streamed in batches of `batchSize`: one read of the
   * collection for the whole pass (FerretDB decodes every document to evaluate `$exists`, once),
   * on the read pool so that the single write connection stays free for sessions. The caller
   * closes the cursor (`return()` on the iterator) when it stops early.
   */
  async *legacy(kind: PartitionedKind, batchSize: number): AsyncGenerator<LegacyDoc[]> {
    const cursor =
      kind === 'devices'
        ? this.readDevices
            .find(LEGACY, { _id: 1 })
            .lean<{ _id: Types.ObjectId }>()
            .cursor({ batchSize })
        : this.readAssignments
            .find(LEGACY, { _id: 1, winDeviceId: 1 })
            .lean<{ _id: Types.ObjectId; winDeviceId: Types.ObjectId }>()
            .cursor({ batchSize });
    try {
      let batch: LegacyDoc[] = [];
      for await (const d of cursor as AsyncIterable<{
        _id: Types.ObjectId;
        winDeviceId?: Types.ObjectId;
      }>) {
        batch.push({ id: d._id, deviceId: (d.winDeviceId ?? d._id).toHexString() });
        if (batch.length < batchSize) continue;
        yield batch;
        batch = [];
      }
      if (batch.length) yield batch;
    } finally {
      await cursor.close();
    }
  }

  /**
   * Gives these documents their partition, each by a conditional single-document update (by
   * `_id`, pushed down; only while the fields are still missing), so a rerun or a racing writer
   * changes nothing twice. `updatedAt` is left alone: nothing an administrator sees changed.
   * Answers how many documents were written.
   */
  async setPartitions(kind: PartitionedKind, docs: LegacyDoc[]): Promise<number> {
    if (!docs.length) return 0;
    const ops = docs.map((d) => ({
      updateOne: {
        filter: { _id: d.id, ...LEGACY },
        update: { $set: planFieldsOf(d.deviceId) },
        timestamps: false,
      },
    }));
    // Bounded commands: FerretDB holds a connection per statement of a command (bulk-updates.ts).
    return kind === 'devices'
      ? bulkWriteInChunks(ops as AnyBulkWriteOperation<WinDeviceDoc>[], (c) =>
          this.devices.bulkWrite(c, { ordered: false }),
        )
      : bulkWriteInChunks(ops as AnyBulkWriteOperation<WinProfileAssignmentDoc>[], (c) =>
          this.assignments.bulkWrite(c, { ordered: false }),
        );
  }
}
