import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { AnyBulkWriteOperation, FilterQuery, Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { statusEntry, withOutbox } from '../common/mongo/outbox';
import { CommandStatus, INTERIM_CODES } from './command-status';
import { CommandDataItem, WinCommand } from './commands.types';
import { WinCommandDoc } from './win-command.schema';
import { toCommand } from './commands.repository';

const USER_SCOPE = /^\.\/User\//;

/**
 * The states of a sent Get that may still take its Results: no final Status yet, or a success
 * (management-session.md §3.9: Results follow a Get answered 200).
 */
export const RESULTS_AWAITED: string[] = [CommandStatus.Awaiting, CommandStatus.Acknowledged];

export interface StatusTransition {
  /** The command's `_id`: every device-facing write addresses a command by it. */
  id: string;
  cmdId: string;
  /** The verb recorded for the command: a Status for another verb must not apply. */
  action: string;
  to: string;
  statusCode: string;
  receivedAt: Date;
  data?: CommandDataItem[];
}

/**
 * The update that ends a sent command the device will not answer:
 * ExpectedMessageNotReceivedInRequiredPeriodOfTime, with its status entry and event.
 */
function endUnanswered(now: Date) {
  return withOutbox(
    {
      $set: {
        status: CommandStatus.ExpectedMessageNotReceivedInRequiredPeriodOfTime,
        receivedAt: now,
      },
    },
    statusEntry(now, CommandStatus.ExpectedMessageNotReceivedInRequiredPeriodOfTime),
  );
}

/** The device-facing queries on win_commands: delivery, statuses, redelivery. */
@Injectable()
export class CommandDeliveryRepository {
  constructor(@InjectModel(WinCommandDoc.name) private readonly commands: Model<WinCommandDoc>) {}

  /** The device's Pending commands, FIFO: batch time, batch, position. */
  async nextPending(winDeviceId: string, limit: number, userScope = true): Promise<WinCommand[]> {
    const filter: FilterQuery<WinCommandDoc> = { winDeviceId, status: CommandStatus.Pending };
    // management-session.md §3.11: ./User/… nodes only while the enrolled user is logged on.
    if (!userScope) filter['config.path'] = { $not: USER_SCOPE };
    const docs = await this.commands
      .find(filter)
      .sort({ queuedAt: 1, batchId: 1, position: 1 })
      .limit(limit)
      .lean<WinCommandDoc[]>()
      .exec();
    return docs.map(toCommand);
  }

  /**
   * Pending → Awaiting for each listed command still Pending: one round trip, each conditional
   * (a cancel in between wins). Answers the ids it moved and the operation's token.
   */
  async markSent(
    winDeviceId: string,
    ids: string[],
    sessionRef: string,
    sentAt: Date,
  ): Promise<{ moved: Set<string>; opToken: string }> {
    return this.stamped(winDeviceId, ids, (opToken) => [
      {
        updateMany: {
          filter: { _id: { $in: ids }, winDeviceId, status: CommandStatus.Pending },
          update: withOutbox(
            {
              $set: { status: CommandStatus.Awaiting, sentAt, sessionRef, opToken },
              $inc: { attempts: 1 },
            },
            statusEntry(sentAt, CommandStatus.Awaiting),
          ),
        },
      },
    ]);
  }

  /**
   * markSent by cmdId, for a replayed answer: those of `cmdIds` still Pending go Awaiting from
   * `sessionRef`; answers how many moved.
   */
  async markSentByCmdId(
    winDeviceId: string,
    cmdIds: string[],
    sessionRef: string,
    sentAt: Date,
  ): Promise<number> {
    if (!cmdIds.length) return 0;
    const res = await this.commands
      .updateMany(
        { winDeviceId, status: CommandStatus.Pending, cmdId: { $in: cmdIds } },
        withOutbox(
          {
            $set: { status: CommandStatus.Awaiting, sentAt, sessionRef, opToken: randomUUID() },
            $inc: { attempts: 1 },
          },
          statusEntry(sentAt, CommandStatus.Awaiting),
        ),
      )
      .exec();
    return res.modifiedCount;
  }

  /**
   * The command, while it is Awaiting from session `sessionRef`: read by the unique cmdId index,
   * the device, status and session checked here (an index prefix, however long the history).
   */
  async findInFlight(
    winDeviceId: string,
    cmdId: string,
    sessionRef: string,
  ): Promise<WinCommand | null> {
    const doc = await this.commands.findOne({ cmdId }).lean<WinCommandDoc>().exec();
    if (!doc || doc.winDeviceId.toHexString() !== winDeviceId) return null;
    if (doc.status !== CommandStatus.Awaiting || doc.sessionRef !== sessionRef) return null;
    return toCommand(doc);
  }

  /**
   * The listed commands of the device that are Awaiting, the only ones a Status applies to. Read
   * as the device's Awaiting commands (an index prefix: what is in flight, however long its
   * history), then picked by cmdId.
   */
  async findAwaiting(winDeviceId: string, cmdIds: string[]): Promise<WinCommand[]> {
    if (!cmdIds.length) return [];
    const docs = await this.commands
      .find({ winDeviceId, status: CommandStatus.Awaiting })
      .lean<WinCommandDoc[]>()
      .exec();
    const wanted = new Set(cmdIds);
    return docs.filter((d) => wanted.has(d.cmdId)).map(toCommand);
  }

  /**
   * The listed commands of the device in any state (Results may come for an answered Get), by
   * the unique cmdId index; another device's commands are left out.
   */
  async findByCmdIds(winDeviceId: string, cmdIds: string[]): Promise<WinCommand[]> {
    if (!cmdIds.length) return [];
    const docs = await this.commands
      .find({ cmdId: { $in: cmdIds } })
      .lean<WinCommandDoc[]>()
      .exec();
    return docs.filter((d) => d.winDeviceId.toHexString() === winDeviceId).map(toCommand);
  }

  /**
   * Applies device statuses in one bulk write. Each update is conditional on the command being
   * this device's, Awaiting, and of the answered verb: a late or repeated Status cannot apply twice
   * or move a command backwards. Answers the cmdIds whose transition applied.
   */
  async applyStatuses(winDeviceId: string, transitions: StatusTransition[]): Promise<Set<string>> {
    const ids = transitions.map((t) => t.id);
    const { moved } = await this.stamped(winDeviceId, ids, (opToken) =>
      this.statusOps(winDeviceId, transitions, opToken),
    );
    return new Set(transitions.filter((t) => moved.has(t.id)).map((t) => t.cmdId));
  }

  private statusOps(
    winDeviceId: string,
    transitions: StatusTransition[],
    opToken: string,
  ): AnyBulkWriteOperation<WinCommandDoc>[] {
    // Transitions that set the same values (e.g. ten Replaces answered 200) share one updateMany
    // over their cmdIds: the same conditions per document, fewer statements (on FerretDB's SQLite
    // backend each statement scans the collection). Gets carrying data stay one update each.
    const groups = new Map<string, StatusTransition[]>();
    const ops: AnyBulkWriteOperation<WinCommandDoc>[] = [];
    for (const t of transitions) {
      if (t.data) {
        ops.push({
          updateOne: {
            filter: {
              _id: t.id,
              winDeviceId,
              status: CommandStatus.Awaiting,
              'config.action': t.action,
            },
            update: withOutbox(
              {
                $set: {
                  status: t.to,
                  statusCode: t.statusCode,
                  receivedAt: t.receivedAt,
                  data: t.data,
                  opToken,
                },
              },
              statusEntry(t.receivedAt, t.to, t.statusCode),
            ),
          },
        });
        continue;
      }
      const key = JSON.stringify([t.action, t.to, t.statusCode, t.receivedAt.getTime()]);
      groups.set(key, [...(groups.get(key) ?? []), t]);
    }
    for (const group of groups.values()) {
      const t = group[0];
      ops.push({
        updateMany: {
          filter: {
            _id: { $in: group.map((g) => g.id) },
            winDeviceId,
            status: CommandStatus.Awaiting,
            'config.action': t.action,
          },
          update: withOutbox(
            {
              $set: { status: t.to, statusCode: t.statusCode, receivedAt: t.receivedAt, opToken },
            },
            statusEntry(t.receivedAt, t.to, t.statusCode),
          ),
        },
      });
    }
    return ops;
  }

  /**
   * "Did my conditional write win?" for every delivery path: the writes carry a fresh operation
   * token, set by the same conditional update, so the documents holding it afterwards are exactly
   * the ones this operation moved — whatever clocks say. When every listed document moved, or
   * none did, the answer needs no read.
   */
  private async stamped(
    winDeviceId: string,
    values: string[],
    ops: (opToken: string) => AnyBulkWriteOperation<WinCommandDoc>[],
  ): Promise<{ moved: Set<string>; opToken: string }> {
    const opToken = randomUUID();
    if (!values.length) return { moved: new Set(), opToken };
    const res = await this.commands.bulkWrite(ops(opToken), { ordered: false });
    if (res.modifiedCount === values.length) return { moved: new Set(values), opToken };
    if (res.modifiedCount === 0) return { moved: new Set(), opToken };
    const docs = await this.commands
      .find({ _id: { $in: values }, winDeviceId, opToken })
      .select({ _id: 1 })
      .lean<Pick<WinCommandDoc, '_id'>[]>()
      .exec();
    return { moved: new Set(docs.map((d) => d._id.toHexString())), opToken };
  }

  /**
   * Results outside their Status: data for a Get this device was sent and that still awaits it —
   * Awaiting (its Status not yet in), or Acknowledged without data (the Status came first). The
   * condition is in the update itself: a Pending (never or no longer sent), cancelled or failed
   * Get, another verb, or another device's command is never written, whatever the caller checked.
   */
  async attachResults(
    winDeviceId: string,
    results: { id: string; data: CommandDataItem[] }[],
  ): Promise<number> {
    if (!results.length) return 0;
    const ops: AnyBulkWriteOperation<WinCommandDoc>[] = results.map((r) => ({
      updateOne: {
        filter: {
          _id: r.id,
          winDeviceId,
          'config.action': 'Get',
          status: { $in: RESULTS_AWAITED },
          sentAt: { $ne: null },
          data: { $size: 0 },
        },
        update: { $set: { data: r.data } },
      },
    }));
    const res = await this.commands.bulkWrite(ops, { ordered: false });
    return res.modifiedCount;
  }

  /**
   * Commands left Awaiting (no Status) go back to Pending for redelivery while attempts remain,
   * otherwise they end as ExpectedMessageNotReceivedInRequiredPeriodOfTime. `sessionRef`
   * restricts it to one session (Alert 1223); without it, every Awaiting command of the device.
   */
  async requeueUnanswered(
    winDeviceId: string,
    maxAttempts: number,
    now: Date,
    sessionRef?: string,
  ): Promise<{ requeued: number; expired: number }> {
    // 101 (in progress), 202 (Exec accepted): the device is still executing; sending it again
    // would run it twice. They end by their outcome or by expireInterim.
    const base: Record<string, unknown> = {
      winDeviceId,
      status: CommandStatus.Awaiting,
      statusCode: { $nin: INTERIM_CODES },
    };
    if (sessionRef) base.sessionRef = sessionRef;
    // Two updates, so each reports its own count: a count by timestamp afterwards would also take
    // commands another update stamped with the same time (expireInterim, for the same message).
    const requeued = await this.commands
      .updateMany(
        { ...base, attempts: { $lt: maxAttempts } },
        withOutbox(
          { $set: { status: CommandStatus.Pending, sessionRef: null } },
          statusEntry(now, CommandStatus.Pending),
        ),
      )
      .exec();
    const expired = await this.commands
      .updateMany({ ...base, attempts: { $gte: maxAttempts } }, endUnanswered(now))
      .exec();
    return { requeued: requeued.modifiedCount, expired: expired.modifiedCount };
  }

  /**
   * Commands held open by an interim answer (101, or 202 to an Exec) whose answer came before
   * `before` end as ExpectedMessageNotReceivedInRequiredPeriodOfTime; answers those still open.
   */
  async expireInterim(
    winDeviceId: string,
    before: Date,
    now: Date,
  ): Promise<{ expired: number; open: WinCommand[] }> {
    const interim = {
      winDeviceId,
      status: CommandStatus.Awaiting,
      statusCode: { $in: INTERIM_CODES },
    };
    const res = await this.commands
      .updateMany(
        { ...interim, receivedAt: { $lt: before } },
        {
          $set: {
            status: CommandStatus.ExpectedMessageNotReceivedInRequiredPeriodOfTime,
            receivedAt: now,
          },
        },
      )
      .exec();
    const open = await this.commands.find(interim).lean<WinCommandDoc[]>().exec();
    return { expired: res.modifiedCount, open: open.map(toCommand) };
  }

  /** The device's Execs accepted for asynchronous execution (202) or in progress (101). */
  async openExecs(winDeviceId: string): Promise<WinCommand[]> {
    const docs = await this.commands
      .find({
        winDeviceId,
        status: CommandStatus.Awaiting,
        statusCode: { $in: INTERIM_CODES },
        'config.action': 'Exec',
      })
      .lean<WinCommandDoc[]>()
      .exec();
    return docs.map(toCommand);
  }

  /** An open Exec's outcome, from the device's alert; conditional on it being still open. */
  async settleExec(
    winDeviceId: string,
    id: string,
    to: string,
    data: CommandDataItem[],
    receivedAt: Date,
  ): Promise<boolean> {
    const res = await this.commands
      .updateOne(
        {
          _id: id,
          winDeviceId,
          status: CommandStatus.Awaiting,
          statusCode: { $in: INTERIM_CODES },
          'config.action': 'Exec',
        },
        { $set: { status: to, data, receivedAt } },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /** Commands taken for an answer that was never sent: back to Pending as they were. */
  async returnUnsent(winDeviceId: string, opToken: string): Promise<number> {
    const res = await this.commands
      .updateMany(
        { winDeviceId, status: CommandStatus.Awaiting, opToken },
        withOutbox(
          {
            $set: { status: CommandStatus.Pending, sessionRef: null, sentAt: null },
            $inc: { attempts: -1 },
          },
          statusEntry(new Date(), CommandStatus.Pending),
        ),
      )
      .exec();
    return res.modifiedCount;
  }

  /**
   * Unenrollment closes the queue: Pending → Cancel; Awaiting (sent, never to be answered) →
   * ExpectedMessageNotReceivedInRequiredPeriodOfTime.
   */
  async closeQueue(winDeviceId: string, now: Date): Promise<{ canceled: number; expired: number }> {
    // Pending first: once cancelled, nothing can be sent, so nothing new becomes Awaiting. Each
    // update reports its own count (no count by timestamp, which other updates share).
    const canceled = await this.commands
      .updateMany(
        { winDeviceId, status: CommandStatus.Pending },
        withOutbox(
          { $set: { status: CommandStatus.Cancel, canceledAt: now } },
          statusEntry(now, CommandStatus.Cancel),
        ),
      )
      .exec();
    const expired = await this.commands
      .updateMany({ winDeviceId, status: CommandStatus.Awaiting }, endUnanswered(now))
      .exec();
    return { canceled: canceled.modifiedCount, expired: expired.modifiedCount };
  }

  /** Pending → RequestItemTooLong: the command cannot fit any message the device accepts. */
  async failTooLong(winDeviceId: string, id: string, now: Date): Promise<boolean> {
    const res = await this.commands
      .updateOne(
        { _id: id, winDeviceId, status: CommandStatus.Pending },
        withOutbox(
          { $set: { status: CommandStatus.RequestItemTooLong, receivedAt: now } },
          statusEntry(now, CommandStatus.RequestItemTooLong),
        ),
      )
      .exec();
    return res.modifiedCount === 1;
  }
}
