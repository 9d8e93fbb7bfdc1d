import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model, Types } from 'mongoose';
import { PageRequest } from '../common/pagination/pagination';
import { CommandStatus } from './command-status';
import { CommandBatch, CommandConfig, StatusCount, WinCommand } from './commands.types';
import { IdempotencyKeyDoc, WinCommandBatchDoc, WinCommandDoc } from './command.schemas';

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
    sentAt: d.sentAt ?? null,
    receivedAt: d.receivedAt ?? null,
    canceledAt: d.canceledAt ?? null,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

const isDuplicateKey = (e: unknown) => (e as { code?: number }).code === 11000;

function onlyDuplicateKeyErrors(e: unknown): boolean {
  const errs = (e as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
  if (!errs) return isDuplicateKey(e);
  return errs.every((w) => (w.code ?? w.err?.code) === 11000);
}

/** A command's id: its batch and position, so a retried insert is recognised as a duplicate. */
export function commandId(batchId: string, position: number): string {
  return `${batchId}-${position}`;
}

export interface NewBatch {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  winDeviceId: string;
  mdmUserId: string | null;
  name: string | null;
  createdBy: string;
  configs: CommandConfig[];
}

@Injectable()
export class CommandsRepository {
  constructor(
    @InjectModel(WinCommandBatchDoc.name) private readonly batches: Model<WinCommandBatchDoc>,
    @InjectModel(WinCommandDoc.name) private readonly commands: Model<WinCommandDoc>,
    @InjectModel(IdempotencyKeyDoc.name) private readonly keys: Model<IdempotencyKeyDoc>,
  ) {}

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
   * batch instead of queuing twice.
   */
  async createBatch(input: NewBatch): Promise<{ batch: CommandBatch; fresh: boolean }> {
    let batchDoc: WinCommandBatchDoc | null = null;
    let fresh = true;
    try {
      const created = await this.batches.create({
        _id: new Types.ObjectId(input.id),
        organizationId: input.organizationId,
        winEnterpriseId: input.winEnterpriseId,
        winDeviceId: input.winDeviceId,
        mdmUserId: input.mdmUserId,
        name: input.name,
        createdBy: input.createdBy,
        commandCount: input.configs.length,
      });
      batchDoc = created.toObject();
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
    }));
    try {
      await this.commands.insertMany(docs, { ordered: false });
    } catch (e) {
      if (!onlyDuplicateKeyErrors(e)) throw e;
    }
    return { batch: toBatch(batchDoc), fresh };
  }

  async findBatch(
    orgId: string,
    winDeviceId: string,
    batchId: string,
  ): Promise<CommandBatch | null> {
    const doc = await this.batches
      .findOne({ _id: batchId, organizationId: orgId, winDeviceId })
      .lean<WinCommandBatchDoc>()
      .exec();
    return doc ? toBatch(doc) : null;
  }

  async commandsOfBatch(orgId: string, batchId: string): Promise<WinCommand[]> {
    const docs = await this.commands
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
  ): Promise<[CommandBatch[], number]> {
    const filter = { organizationId: orgId, winDeviceId };
    const [docs, total] = await Promise.all([
      this.batches
        .find(filter)
        .sort({ [page.sort.field]: page.sort.direction, _id: page.sort.direction })
        .skip((page.page - 1) * page.limit)
        .limit(page.limit)
        .lean<WinCommandBatchDoc[]>()
        .exec(),
      this.batches.countDocuments(filter).exec(),
    ]);
    return [docs.map(toBatch), total];
  }

  /** Per batch, how many of its commands are in each status. */
  async summaries(orgId: string, batchIds: string[]): Promise<Map<string, StatusCount[]>> {
    const out = new Map<string, StatusCount[]>(batchIds.map((id) => [id, []]));
    if (!batchIds.length) return out;
    const rows = await this.commands
      .aggregate<{ _id: { batchId: Types.ObjectId; status: string }; count: number }>([
        {
          $match: {
            organizationId: new Types.ObjectId(orgId),
            batchId: { $in: batchIds.map((id) => new Types.ObjectId(id)) },
          },
        },
        { $group: { _id: { batchId: '$batchId', status: '$status' }, count: { $sum: 1 } } },
      ])
      .exec();
    for (const r of rows)
      out.get(r._id.batchId.toHexString())?.push({ status: r._id.status, count: r.count });
    for (const list of out.values()) list.sort((a, b) => a.status.localeCompare(b.status));
    return out;
  }

  async listCommands(
    orgId: string,
    batchId: string,
    page: PageRequest,
    statuses?: string[],
  ): Promise<[WinCommand[], number]> {
    const filter: FilterQuery<WinCommandDoc> = { batchId, organizationId: orgId };
    if (statuses) filter.status = { $in: statuses };
    const [docs, total] = await Promise.all([
      this.commands
        .find(filter)
        .sort({ [page.sort.field]: page.sort.direction })
        .skip((page.page - 1) * page.limit)
        .limit(page.limit)
        .lean<WinCommandDoc[]>()
        .exec(),
      this.commands.countDocuments(filter).exec(),
    ]);
    return [docs.map(toCommand), total];
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
    if (cmdIds) filter.cmdId = { $in: cmdIds };
    const res = await this.commands
      .updateMany(filter, { $set: { status: CommandStatus.Cancel, canceledAt: now } })
      .exec();
    return res.modifiedCount;
  }

  async findCommandsByCmdId(
    orgId: string,
    batchId: string,
    cmdIds: string[],
  ): Promise<WinCommand[]> {
    const docs = await this.commands
      .find({ batchId, organizationId: orgId, cmdId: { $in: cmdIds } })
      .lean<WinCommandDoc[]>()
      .exec();
    return docs.map(toCommand);
  }
}
