import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model, Types } from 'mongoose';
import { bulkWriteInChunks } from '../common/mongo/bulk-updates';
import { insertPlain } from '../common/mongo/insert-plain';
import { findPage } from '../common/mongo/find-page';
import { isDuplicateKey, onlyDuplicateKeys } from '../common/mongo/mongo-errors';
import { newObjectId } from '../common/mongo/object-id';
import { ReadModels } from '../common/mongo/read-pool';
import { OutboxEvent, outboxEntry, statusEntry, withOutbox } from '../common/mongo/outbox';
import { Page, PageRequest } from '../common/pagination/pagination';
import { CommandStatus, isFinalStatus } from './command-status';
import {
  BatchAction,
  CommandBatch,
  CommandConfig,
  CommandOrigin,
  SettledSummary,
  StatusCount,
  WinCommand,
} from './commands.types';
import { IdempotencyKeyDoc } from './idempotency-key.schema';
import { WinCommandBatchDoc } from './win-command-batch.schema';
import { WinCommandDoc } from './win-command.schema';

export function toBatch(d: WinCommandBatchDoc): CommandBatch {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winEnterpriseId: d.winEnterpriseId.toHexString(),
    winDeviceId: d.winDeviceId.toHexString(),
    mdmUserId: d.mdmUserId ? d.mdmUserId.toHexString() : null,
    name: d.name ?? null,
    createdBy: d.createdBy,
    commandCount: d.commandCount,
    ...(d.action && { action: d.action }),
    ...(d.origin && { origin: d.origin }),
    ...(d.atomic && { atomic: true }),
    ...(d.finalSummary && { finalSummary: d.finalSummary }),
    ...(d.summaryEpoch !== undefined && { summaryEpoch: d.summaryEpoch }),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function toCommand(d: WinCommandDoc): WinCommand {
  return {
    id: d._id.toHexString(),
    cmdId: d.cmdId,
    batchId: d.batchId.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winDeviceId: d.winDeviceId.toHexString(),
    position: d.position,
    config: d.config,
    status: d.status,
    statusCode: d.statusCode ?? null,
    data: d.data ?? [],
    attempts: d.attempts ?? 0,
    ...(d.atomic && { atomic: true }),
    sentAt: d.sentAt ?? null,
    receivedAt: d.receivedAt ?? null,
    canceledAt: d.canceledAt ?? null,
    ...(d.origin && { origin: d.origin }),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** A command's id: its batch and position, so a retried insert is recognised as a duplicate. */
export function commandId(batchId: string, position: number): string {
  return `${batchId}-${position}`;
}

/**
 * The positions the listed cmdIds name in the batch (others name no command of it): a batch's
 * commands are read by the {batchId, position} index, which cmdIds alone do not reach.
 */
function positionsOf(batchId: string, cmdIds: string[]): number[] {
  const prefix = `${batchId}-`;
  return cmdIds
    .filter((c) => c.startsWith(prefix) && /^(0|[1-9]\d{0,8})$/.test(c.slice(prefix.length)))
    .map((c) => Number(c.slice(prefix.length)));
}

export interface NewBatch {
  /** From newBatchId(), or the batch an Idempotency-Key claimed earlier. */
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  winDeviceId: string;
  mdmUserId: string | null;
  name: string | null;
  createdBy: string;
  configs: CommandConfig[];
  action?: BatchAction;
  origin?: CommandOrigin;
  atomic?: boolean;
}

export type CreatedBatch =
  | { fresh: true; batch: CommandBatch; commands: WinCommand[] }
  | { fresh: false; batch: CommandBatch };

/** The batch's own `command.batch.created` record, written by the insert that creates it. */
function batchCreatedOutbox() {
  const entry = outboxEntry(OutboxEvent.CommandBatchCreated, new Date());
  return { outbox: [entry], outboxAt: entry.at, outboxDue: true };
}

@Injectable()
export class CommandsRepository {
  // The REST reads of batches and commands, on the read pool (decisions.md §45).
  private readonly batchReader: Model<WinCommandBatchDoc>;
  private readonly commandReader: Model<WinCommandDoc>;
  // A new batch and its commands are inserted off the single write connection (§57).
  private readonly batchInserts: Model<WinCommandBatchDoc>;
  private readonly commandInserts: Model<WinCommandDoc>;

  constructor(
    @InjectModel(WinCommandBatchDoc.name) private readonly batches: Model<WinCommandBatchDoc>,
    @InjectModel(WinCommandDoc.name) private readonly commands: Model<WinCommandDoc>,
    @InjectModel(IdempotencyKeyDoc.name) private readonly keys: Model<IdempotencyKeyDoc>,
    reads: ReadModels,
  ) {
    this.batchReader = reads.of(batches);
    this.commandReader = reads.of(commands);
    this.batchInserts = reads.forInserts(batches);
    this.commandInserts = reads.forInserts(commands);
  }

  /**
   * A batch's id is chosen before anything is written: an Idempotency-Key claims it, and the
   * cmdIds `<batchId>-<position>` derive from it (docs/decisions.md §7).
   */
  newBatchId(): string {
    return newObjectId();
  }

  /** Claims `key` for `batchId`; when it was claimed before, returns the earlier claim. */
  async claimIdempotencyKey(
    key: string,
    requestHash: string,
    batchId: string,
  ): Promise<{ batchId: string; requestHash: string }> {
    try {
      await this.keys.create({ _id: key, requestHash, batchId, createdAt: new Date() });
      return { batchId, requestHash };
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      const prior = await this.keys.findById(key).lean<IdempotencyKeyDoc>().exec();
      if (!prior) throw e;
      return { batchId: prior.batchId.toHexString(), requestHash: prior.requestHash };
    }
  }

  /**
   * Writes the batch, then one document per command. Ids are deterministic (batch id, cmdId =
   * `<batchId>-<position>`), so a retry after a crash or a racing duplicate completes the same
   * batch instead of queuing twice. Only the call that wrote the batch is `fresh`, and it gets
   * the commands as stored.
   */
  async createBatch(input: NewBatch): Promise<CreatedBatch> {
    let batchDoc: WinCommandBatchDoc | null = null;
    let fresh = true;
    try {
      batchDoc = await insertPlain(this.batchInserts, {
        ...batchCreatedOutbox(),
        _id: new Types.ObjectId(input.id),
        organizationId: input.organizationId,
        winEnterpriseId: input.winEnterpriseId,
        winDeviceId: input.winDeviceId,
        mdmUserId: input.mdmUserId,
        name: input.name,
        createdBy: input.createdBy,
        commandCount: input.configs.length,
        ...(input.action && { action: input.action }),
        ...(input.origin && { origin: input.origin }),
        ...(input.atomic && { atomic: true }),
      });
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
      fresh = false;
      batchDoc = await this.batches.findById(input.id).lean<WinCommandBatchDoc>().exec();
      if (!batchDoc) throw e;
    }
    const queuedAt = batchDoc.createdAt;
    const docs = input.configs.map((config, position) => ({
      cmdId: commandId(input.id, position),
      batchId: input.id,
      organizationId: input.organizationId,
      winDeviceId: input.winDeviceId,
      queuedAt,
      position,
      config:
        config.value === undefined
          ? { path: config.path, action: config.action, format: config.format }
          : config,
      status: CommandStatus.Pending,
      statusCode: null,
      data: [],
      attempts: 0,
      ...(input.origin && { origin: input.origin }),
      ...(input.atomic && { atomic: true }),
    }));
    // Through the driver, with the schema's defaults applied to plain objects: a
    // mongoose document per command (built, validated, converted back) costs the enqueue more
    // CPU than the insert itself (issue 10). The documents are as `insertMany` would store them.
    const now = new Date();
    const ids = {
      batchId: new Types.ObjectId(input.id),
      organizationId: new Types.ObjectId(input.organizationId),
      winDeviceId: new Types.ObjectId(input.winDeviceId),
    };
    const raw = docs.map((d): WinCommandDoc => ({
      ...(this.commands.applyDefaults({ ...d }) as WinCommandDoc),
      ...ids,
      _id: new Types.ObjectId(),
      createdAt: now,
      updatedAt: now,
    }));
    let inserted: WinCommandDoc[] | null = null;
    try {
      await this.commandInserts.collection.insertMany(raw, { ordered: false });
      inserted = raw;
    } catch (e) {
      if (!onlyDuplicateKeys(e)) throw e;
    }
    const batch = toBatch(batchDoc);
    if (!fresh) return { fresh: false, batch };
    // A racing duplicate wrote some of the commands: those are read back.
    const commands = inserted
      ? inserted.map(toCommand).sort((a, b) => a.position - b.position)
      : await this.commandsOfBatch(input.organizationId, input.id);
    return { fresh: true, batch, commands };
  }

  async findBatch(
    orgId: string,
    winDeviceId: string,
    batchId: string,
  ): Promise<CommandBatch | null> {
    const doc = await this.batchReader
      .findOne({ _id: batchId, organizationId: orgId, winDeviceId })
      .lean<WinCommandBatchDoc>()
      .exec();
    return doc ? toBatch(doc) : null;
  }

  async commandsOfBatch(orgId: string, batchId: string): Promise<WinCommand[]> {
    const docs = await this.commandReader
      .find({ batchId, organizationId: orgId })
      .sort({ position: 1 })
      .lean<WinCommandDoc[]>()
      .exec();
    return docs.map(toCommand);
  }

  async listBatches(
    orgId: string,
    winDeviceId: string,
    page: PageRequest,
  ): Promise<Page<CommandBatch>> {
    return findPage(this.batchReader, { organizationId: orgId, winDeviceId }, page, toBatch);
  }

  /**
   * Per batch, how many of its commands are in each status. A batch whose commands are all
   * final keeps its counts (`finalSummary`, decisions.md §46), so a page of history costs no read
   * of commands. The others get one aggregation each, on an equality of batchId: FerretDB pushes
   * equalities down to PostgreSQL but not `$in`, with which it decoded every command of the
   * organization (decisions.md §43). Counts found final and complete are stored for the next read.
   */
  async summaries(orgId: string, batches: CommandBatch[]): Promise<Map<string, StatusCount[]>> {
    const { counts, settled } = await this.countStatuses(orgId, batches);
    await this.keepFinalSummaries(settled);
    return counts;
  }

  /**
   * The counts of `summaries`, and those of them that may be kept: final and complete (every
   * command of the batch counted: a batch is written before its commands, which start Pending),
   * each with the `summaryEpoch` its batch was read at, before its commands were counted.
   */
  async countStatuses(
    orgId: string,
    batches: CommandBatch[],
  ): Promise<{ counts: Map<string, StatusCount[]>; settled: SettledSummary[] }> {
    const out = new Map<string, StatusCount[]>();
    const open = batches.filter((b) => {
      if (b.finalSummary) out.set(b.id, b.finalSummary);
      return !b.finalSummary;
    });
    const organizationId = new Types.ObjectId(orgId);
    const counts = await Promise.all(
      open.map((b) =>
        this.commandReader
          .aggregate<{ _id: string; count: number }>([
            { $match: { batchId: new Types.ObjectId(b.id), organizationId } },
            { $group: { _id: '$status', count: { $sum: 1 } } },
          ])
          .exec(),
      ),
    );
    const settled: SettledSummary[] = [];
    open.forEach((b, i) => {
      const summary = counts[i]
        .map((r) => ({ status: r._id, count: r.count }))
        .sort((x, y) => x.status.localeCompare(y.status));
      out.set(b.id, summary);
      const total = summary.reduce((n, c) => n + c.count, 0);
      if (total === b.commandCount && summary.every((c) => isFinalStatus(c.status))) {
        settled.push({ id: b.id, summary, epoch: b.summaryEpoch });
      }
    });
    return { counts: out, settled };
  }

  /**
   * Stores counts from `countStatuses` (one round trip per 20), without touching `updatedAt`. Each
   * write holds only while the batch's `summaryEpoch` is the one read before its commands were
   * counted: the history retention bumps it when it thins the batch, so counts taken before a
   * thinning never land after it (decisions.md §46).
   */
  async keepFinalSummaries(settled: SettledSummary[]): Promise<void> {
    // The driver's bulkWrite: mongoose's would set updatedAt, which the API shows. A page holds up
    // to MAX_PAGE_LIMIT batches: in commands of 20 (bulk-updates.ts, decisions.md §51).
    await bulkWriteInChunks(
      settled.map(({ id, summary, epoch }) => ({
        updateOne: {
          filter: {
            _id: new Types.ObjectId(id),
            summaryEpoch: epoch === undefined ? { $exists: false } : epoch,
          },
          update: { $set: { finalSummary: summary } },
        },
      })),
      (chunk) => this.batches.collection.bulkWrite(chunk, { ordered: false }),
    );
  }

  async listCommands(
    orgId: string,
    batchId: string,
    page: PageRequest,
    statuses?: string[],
  ): Promise<Page<WinCommand>> {
    const filter: FilterQuery<WinCommandDoc> = { batchId, organizationId: orgId };
    if (statuses) filter.status = { $in: statuses };
    return findPage(this.commandReader, filter, page, toCommand);
  }

  /** Pending → Cancel for the listed commands of the batch (all when none listed), each conditional. */
  async cancelPending(
    orgId: string,
    batchId: string,
    now: Date,
    cmdIds?: string[],
  ): Promise<number> {
    const filter: FilterQuery<WinCommandDoc> = {
      batchId,
      organizationId: orgId,
      status: CommandStatus.Pending,
    };
    if (cmdIds) filter.position = { $in: positionsOf(batchId, cmdIds) };
    const res = await this.commands
      .updateMany(
        filter,
        withOutbox(
          { $set: { status: CommandStatus.Cancel, canceledAt: now } },
          statusEntry(now, CommandStatus.Cancel),
        ),
      )
      .exec();
    return res.modifiedCount;
  }

  /**
   * Pending → Cancel for the device's commands queued by `origin` (kind and id) at a revision
   * other than `keepRevision`: a newer revision supersedes what was not sent yet. Conditional per
   * document, so a command taken for delivery meanwhile stays as it is.
   */
  async cancelSupersededPending(
    winDeviceId: string,
    origin: { kind: string; id: string },
    keepRevision: number,
    now: Date,
  ): Promise<number> {
    const res = await this.commands
      .updateMany(
        {
          winDeviceId,
          status: CommandStatus.Pending,
          'origin.kind': origin.kind,
          'origin.id': origin.id,
          'origin.revision': { $ne: keepRevision },
        },
        withOutbox(
          { $set: { status: CommandStatus.Cancel, canceledAt: now } },
          statusEntry(now, CommandStatus.Cancel),
        ),
      )
      .exec();
    return res.modifiedCount;
  }

  async findCommandsByCmdId(
    orgId: string,
    batchId: string,
    cmdIds: string[],
  ): Promise<WinCommand[]> {
    const docs = await this.commands
      .find({ batchId, organizationId: orgId, position: { $in: positionsOf(batchId, cmdIds) } })
      .lean<WinCommandDoc[]>()
      .exec();
    return docs.map(toCommand);
  }
}
