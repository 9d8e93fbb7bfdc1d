import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, Model, Types } from 'mongoose';
import { OutboxEntry } from '../common/mongo/outbox';
import { WinCommandBatchDoc } from '../commands/win-command-batch.schema';
import { WinCommandDoc } from '../commands/win-command.schema';
import { bulkWriteInChunks } from '../common/mongo/bulk-updates';
import { DeviceEventDoc } from '../devices/device-event.schema';
import { WinDeviceDoc } from '../devices/win-device.schema';

/** Where an outbox record sits: the relay clears it there once its deliveries are stored. */
export type OutboxSource = 'command' | 'batch' | 'device';

/** A document's pending outbox records and the fields its events carry. */
export interface OutboxRecord {
  source: OutboxSource;
  docId: string;
  organizationId: string;
  winDeviceId: string | null;
  entries: OutboxEntry[];
  /** `outboxAt` without an `outbox` array: acknowledged by clearing `outboxAt` alone. */
  outboxMissing: boolean;
  fields: Record<string, unknown>;
}

export interface PendingAlert {
  id: string;
  organizationId: string;
  winDeviceId: string;
  fields: Record<string, unknown>;
  receivedAt: Date;
}

interface WithOutbox {
  _id: Types.ObjectId;
  organizationId: Types.ObjectId;
  outbox?: OutboxEntry[];
}

/**
 * The webhooks relay's reads and acknowledgements on the documents that carry an outbox
 * (common/mongo/outbox.ts): only the outbox fields are written here, never the state they record.
 */
@Injectable()
export class OutboxRepository {
  constructor(
    @InjectModel(WinCommandDoc.name) private readonly commands: Model<WinCommandDoc>,
    @InjectModel(WinCommandBatchDoc.name) private readonly batches: Model<WinCommandBatchDoc>,
    @InjectModel(WinDeviceDoc.name) private readonly devices: Model<WinDeviceDoc>,
    @InjectModel(DeviceEventDoc.name) private readonly alerts: Model<DeviceEventDoc>,
  ) {}

  private legacyAdopted = false;

  /**
   * Records written before `outboxDue` existed carry `outboxAt` alone: once per process they get
   * the flag, so the relay's equality filter finds them (decisions.md §43).
   */
  private async adoptLegacy(): Promise<void> {
    if (this.legacyAdopted) return;
    const legacy = { outboxAt: { $exists: true }, outboxDue: { $exists: false } };
    const set = { $set: { outboxDue: true } };
    const opts = { timestamps: false };
    await Promise.all([
      this.commands.updateMany(legacy, set, opts).exec(),
      this.batches.updateMany(legacy, set, opts).exec(),
      this.devices.updateMany(legacy, set, opts).exec(),
    ]);
    this.legacyAdopted = true;
  }

  /**
   * Up to `limit` documents of each source with records. Unsorted: FerretDB sorts only after
   * decoding every document the filter selects, so a sorted read costs the whole backlog on every
   * pass, and a backlog that grows while sessions write made the relay's passes slower and slower
   * while they took the store from the sessions (decisions.md §54). Unsorted, the limit ends the
   * read. Delivery is not ordered (README, Webhooks), and every record read is acknowledged, so
   * each pass shrinks the backlog.
   */
  async pending(limit: number, now: Date): Promise<OutboxRecord[]> {
    await this.adoptLegacy();
    const due = { outboxDue: true, outboxAt: { $lte: now } };
    const [commands, batches, devices] = await Promise.all([
      this.commands
        .find(due)
        .select({ cmdId: 1, batchId: 1, organizationId: 1, winDeviceId: 1, config: 1, outbox: 1 })
        .limit(limit)
        .lean<(WinCommandDoc & WithOutbox)[]>()
        .exec(),
      this.batches
        .find(due)
        .select({
          organizationId: 1,
          winDeviceId: 1,
          name: 1,
          commandCount: 1,
          createdBy: 1,
          outbox: 1,
        })
        .limit(limit)
        .lean<(WinCommandBatchDoc & WithOutbox)[]>()
        .exec(),
      this.devices
        .find(due)
        .select({ organizationId: 1, deviceId: 1, name: 1, status: 1, outbox: 1 })
        .limit(limit)
        .lean<(WinDeviceDoc & WithOutbox)[]>()
        .exec(),
    ]);
    return [
      ...commands.map((d) =>
        record('command', d, d.winDeviceId.toHexString(), {
          commandId: d._id.toHexString(),
          cmdId: d.cmdId,
          batchId: d.batchId.toHexString(),
          winDeviceId: d.winDeviceId.toHexString(),
          action: d.config.action,
          path: d.config.path,
        }),
      ),
      ...batches.map((d) =>
        record('batch', d, d.winDeviceId.toHexString(), {
          batchId: d._id.toHexString(),
          winDeviceId: d.winDeviceId.toHexString(),
          name: d.name ?? null,
          commandCount: d.commandCount,
          createdBy: d.createdBy,
        }),
      ),
      ...devices.map((d) =>
        record('device', d, d._id.toHexString(), {
          winDeviceId: d._id.toHexString(),
          deviceId: d.deviceId,
          name: d.name ?? null,
        }),
      ),
    ];
  }

  /**
   * Empties each document's outbox when it still holds exactly the records read (same size, all
   * of them present); a record pushed meanwhile keeps it for the next pass, which replays the
   * ones read (their delivery ids dedupe). One statement per document, by `_id`: the equality
   * FerretDB pushes down (its GIN twin, decisions.md §52), where `_id: {$in}` left it only
   * `outboxDue: true`, so each statement decoded the whole backlog (§54).
   */
  async acknowledge(records: OutboxRecord[]): Promise<void> {
    const bySource = new Map<OutboxSource, AnyBulkWriteOperation<WithOutbox>[]>();
    for (const r of records) {
      const ops = bySource.get(r.source) ?? [];
      const _id = new Types.ObjectId(r.docId);
      ops.push({
        updateOne: {
          filter: r.entries.length
            ? {
                _id,
                outboxDue: true,
                outbox: { $size: r.entries.length },
                // One equality per record: FerretDB 1.24 does not apply $all to an array path.
                $and: r.entries.map((e) => ({ 'outbox.k': e.k })),
              }
            : {
                _id,
                outboxDue: true,
                outbox: r.outboxMissing ? { $exists: false } : { $size: 0 },
              },
          update: { $set: { outbox: [] }, $unset: { outboxAt: '', outboxDue: '' } },
          // The relay's bookkeeping is not a change of the command or device.
          timestamps: false,
        },
      });
      bySource.set(r.source, ops);
    }
    for (const [source, ops] of bySource) {
      const model = this.modelOf(source) as unknown as Model<WithOutbox>;
      // FerretDB holds a PostgreSQL connection per statement of a command (bulk-updates.ts).
      await bulkWriteInChunks(ops, (chunk) => model.bulkWrite(chunk, { ordered: false }));
    }
  }

  /** Device alerts not yet fanned out (device_events is itself the durable record). */
  async pendingAlerts(limit: number): Promise<PendingAlert[]> {
    const docs = await this.alerts
      .find({ published: false })
      .limit(limit)
      .lean<DeviceEventDoc[]>()
      .exec();
    return docs.map((d) => ({
      id: d._id.toHexString(),
      organizationId: d.organizationId.toHexString(),
      winDeviceId: d.winDeviceId.toHexString(),
      receivedAt: d.receivedAt,
      fields: {
        deviceEventId: d._id.toHexString(),
        winDeviceId: d.winDeviceId.toHexString(),
        alertCode: d.alertCode,
        type: d.type ?? null,
        format: d.format ?? null,
        mark: d.mark ?? null,
        source: d.source ?? null,
        data: d.data ?? null,
      },
    }));
  }

  async markAlertsPublished(ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.alerts
      .updateMany({ _id: { $in: ids }, published: false }, { $set: { published: true } })
      .exec();
  }

  private modelOf(source: OutboxSource): Model<unknown> {
    const models = { command: this.commands, batch: this.batches, device: this.devices };
    return models[source] as unknown as Model<unknown>;
  }
}

function record(
  source: OutboxSource,
  d: WithOutbox,
  winDeviceId: string,
  fields: Record<string, unknown>,
): OutboxRecord {
  return {
    source,
    docId: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winDeviceId,
    entries: d.outbox ?? [],
    outboxMissing: !d.outbox,
    fields,
  };
}
