import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, Model, Types } from 'mongoose';
import { OutboxEntry } from '../common/mongo/outbox';
import { WinCommandBatchDoc } from '../commands/win-command-batch.schema';
import { WinCommandDoc } from '../commands/win-command.schema';
import { DeviceEventDoc } from '../devices/device-event.schema';
import { WinDeviceDoc } from '../devices/win-device.schema';

const ACK_CHUNK = 25;

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

  /** Up to `limit` documents of each source with records, oldest first. */
  async pending(limit: number, now: Date): Promise<OutboxRecord[]> {
    await this.adoptLegacy();
    const due = { outboxDue: true, outboxAt: { $lte: now } };
    const [commands, batches, devices] = await Promise.all([
      this.commands
        .find(due)
        .select({ cmdId: 1, batchId: 1, organizationId: 1, winDeviceId: 1, config: 1, outbox: 1 })
        .sort({ outboxAt: 1 })
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
        .sort({ outboxAt: 1 })
        .limit(limit)
        .lean<(WinCommandBatchDoc & WithOutbox)[]>()
        .exec(),
      this.devices
        .find(due)
        .select({ organizationId: 1, deviceId: 1, name: 1, status: 1, outbox: 1 })
        .sort({ outboxAt: 1 })
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
   * ones read (their delivery ids dedupe). Documents that hold the same records (one
   * `updateMany` pushed them) are cleared by one statement.
   */
  async acknowledge(records: OutboxRecord[]): Promise<void> {
    const groups = new Map<
      string,
      { source: OutboxSource; ids: Types.ObjectId[]; r: OutboxRecord }
    >();
    for (const r of records) {
      const key = JSON.stringify([r.source, r.outboxMissing, r.entries.map((e) => e.k)]);
      const g = groups.get(key) ?? { source: r.source, ids: [], r };
      g.ids.push(new Types.ObjectId(r.docId));
      groups.set(key, g);
    }
    const bySource = new Map<OutboxSource, AnyBulkWriteOperation<WithOutbox>[]>();
    for (const { source, ids, r } of groups.values()) {
      const ops = bySource.get(source) ?? [];
      ops.push({
        updateMany: {
          filter: r.entries.length
            ? {
                _id: { $in: ids },
                outboxDue: true,
                outbox: { $size: r.entries.length },
                // One equality per record: FerretDB 1.24 does not apply $all to an array path.
                $and: r.entries.map((e) => ({ 'outbox.k': e.k })),
              }
            : {
                _id: { $in: ids },
                outboxDue: true,
                outbox: r.outboxMissing ? { $exists: false } : { $size: 0 },
              },
          update: { $set: { outbox: [] }, $unset: { outboxAt: '', outboxDue: '' } },
          // The relay's bookkeeping is not a change of the command or device.
          timestamps: false,
        },
      });
      bySource.set(source, ops);
    }
    for (const [source, ops] of bySource) {
      const model = this.modelOf(source) as unknown as Model<WithOutbox>;
      // FerretDB 1.24 (SQLite) stalled on a bulk write of 100 statements here: bounded chunks.
      for (let i = 0; i < ops.length; i += ACK_CHUNK)
        await model.bulkWrite(ops.slice(i, i + ACK_CHUNK), { ordered: false });
    }
  }

  /** Device alerts not yet fanned out (device_events is itself the durable record). */
  async pendingAlerts(limit: number): Promise<PendingAlert[]> {
    const docs = await this.alerts
      .find({ published: false })
      .sort({ receivedAt: 1 })
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
