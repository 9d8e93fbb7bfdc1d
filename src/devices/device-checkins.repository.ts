import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Db } from 'mongodb';
import { Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { firstMatch } from '../common/mongo/first-match';
import { OutboxEvent, outboxEntry, withOutbox } from '../common/mongo/outbox';
import { ReadModels } from '../common/mongo/read-pool';
import {
  AcquireResult,
  CheckinPatch,
  CheckinSnapshot,
  StoredSession,
} from './device-checkin.types';
import { DeviceCertificateInfo, DeviceStatus } from './devices.types';
import { DeviceEvent, DeviceEventDoc } from './device-event.schema';
import { WinDeviceDoc } from './win-device.schema';
import { devicesByCertificate, devicesInOrganization, toWinDevice } from './win-devices.repository';

/** Left out of the idle read: the webhook outbox (pending events) and what no session reads. */
const PEEK_PROJECTION = {
  outbox: 0,
  outboxAt: 0,
  outboxDue: 0,
  enrollment: 0,
  labels: 0,
  name: 0,
} as const;

/** The check-in half of win_devices (lock, opaque session, queue marker) and device_events. */
@Injectable()
export class DeviceCheckinsRepository {
  /** win_devices on the read pool: the lock-free peek decides nothing a write does not recheck. */
  private readonly reader: Model<WinDeviceDoc>;

  constructor(
    @InjectModel(WinDeviceDoc.name) private readonly model: Model<WinDeviceDoc>,
    @InjectModel(DeviceEventDoc.name) private readonly events: Model<DeviceEventDoc>,
    reads: ReadModels,
  ) {
    this.reader = reads.of(model);
  }

  /** The driver's Db of the read pool (set once it is open, before any request is served). */
  private db(): Db {
    return this.reader.db.db as Db;
  }

  async recordEvents(
    orgId: string,
    winDeviceId: string,
    events: Omit<DeviceEvent, 'id' | 'winDeviceId'>[],
  ): Promise<void> {
    if (!events.length) return;
    await this.events.insertMany(events.map((e) => ({ ...e, organizationId: orgId, winDeviceId })));
  }

  async listEvents(
    orgId: string,
    winDeviceId: string,
    skip: number,
    limit: number,
    direction: 1 | -1 = -1,
  ): Promise<[DeviceEvent[], number]> {
    const filter = { organizationId: orgId, winDeviceId };
    const [docs, total] = await Promise.all([
      this.events
        .find(filter)
        .sort({ receivedAt: direction, _id: direction })
        .skip(skip)
        .limit(limit)
        .lean<DeviceEventDoc[]>()
        .exec(),
      this.events.countDocuments(filter).exec(),
    ]);
    return [
      docs.map((d) => ({
        id: d._id.toHexString(),
        winDeviceId: d.winDeviceId.toHexString(),
        alertCode: d.alertCode,
        type: d.type,
        format: d.format,
        mark: d.mark,
        source: d.source,
        data: d.data,
        receivedAt: d.receivedAt,
      })),
      total,
    ];
  }

  /**
   * One round trip: finds the enrolled device holding this certificate thumbprint and takes its
   * lock, returning the device with its session state.
   */
  async acquire(thumbprint: string, now: Date, lockMs: number): Promise<AcquireResult> {
    const lockToken = randomUUID();
    // One certificate field at a time (firstMatch): `$or` of the two fields decoded every device
    // of the store on every locked message (decisions.md §56).
    const doc = await firstMatch(devicesByCertificate(thumbprint), (filter) =>
      this.model
        .findOneAndUpdate(
          {
            ...filter,
            // An unenrolling device still checks in: it is told to leave (Exec Unenroll).
            status: { $in: [DeviceStatus.Active, DeviceStatus.Inactive, DeviceStatus.Unenrolling] },
            $or: [{ lockedUntil: null }, { lockedUntil: { $lt: now } }],
          },
          { $set: { lockedUntil: new Date(now.getTime() + lockMs), lockToken } },
          // The document as it was: its lockToken tells whether the last holder released the
          // lock. Locking is bookkeeping, not a change of the device: updatedAt stays as it was.
          { new: false, timestamps: false },
        )
        .lean<WinDeviceDoc>()
        .exec(),
    );
    if (doc) {
      return {
        kind: 'ok',
        ctx: {
          device: toWinDevice(doc),
          session: (doc.syncml as StoredSession | undefined) ?? null,
          queueMark: doc.queueWrites ? null : (doc.queueSeq ?? 0),
          lockToken,
          staleLock: !!doc.lockToken,
        },
      };
    }
    const other = await firstMatch(devicesByCertificate(thumbprint), (filter) =>
      this.model.findOne(filter).select({ status: 1 }).lean<Pick<WinDeviceDoc, 'status'>>().exec(),
    );
    if (!other) return { kind: 'unknown' };
    return other.status === DeviceStatus.Unenrolled ? { kind: 'unenrolled' } : { kind: 'busy' };
  }

  /**
   * One indexed read, no write (the idle fast path): the device whose current certificate has
   * this thumbprint, or null when it is not one a message may be answered for without the lock
   * (unknown, held or left locked by a crashed holder, not active or inactive). The driver is
   * used directly: this read runs for every check-in, and mongoose's Query costs more CPU than
   * the read itself (a stack trace per exec, casting, cloning). It is one `find` command on the
   * driver's Db rather than `findOne`: the same command on the wire (limit 1, single batch, so
   * no cursor is left open), without the cursor the driver builds around it nor mongoose's
   * collection wrapper (decisions.md §44). The device it returns lacks what the session never
   * reads (the webhook outbox, enrollment details, labels, name).
   */
  async peek(thumbprint: string): Promise<CheckinSnapshot | null> {
    const res = (await this.db().command({
      find: this.model.collection.collectionName,
      filter: { certificateThumbprint: thumbprint },
      projection: PEEK_PROJECTION,
      limit: 1,
      singleBatch: true,
    })) as { cursor: { firstBatch: WinDeviceDoc[] } };
    const doc = res.cursor.firstBatch[0];
    if (!doc || doc.lockToken) return null;
    if (doc.status !== DeviceStatus.Active && doc.status !== DeviceStatus.Inactive) return null;
    return {
      device: toWinDevice(doc),
      session: (doc.syncml as StoredSession | undefined) ?? null,
      queueMark: doc.queueWrites ? null : (doc.queueSeq ?? 0),
      savedBy: doc.savedBy ?? null,
    };
  }

  /**
   * Saves what a message processed without the lock leaves (as release does), only if no message
   * holds the lock and none saved since `savedBy` was read: the new token, or null otherwise.
   */
  async commit(
    winDeviceId: string,
    savedBy: string | null,
    patch: CheckinPatch,
  ): Promise<string | null> {
    const { set, unset } = patchUpdate(patch);
    const token = randomUUID();
    set.savedBy = token;
    const res = await this.model
      .updateOne(
        { _id: winDeviceId, lockToken: null, savedBy },
        Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set },
        { timestamps: false },
      )
      .exec();
    return res.matchedCount === 1 ? token : null;
  }

  /**
   * The device opened a session with its renewed certificate: it becomes the current one (the
   * previous one stops opening sessions). Under the caller's lock; false when it was lost.
   */
  async adoptRenewedCertificate(
    winDeviceId: string,
    lockToken: string,
    renewed: DeviceCertificateInfo,
    dueAt: Date | undefined,
  ): Promise<boolean> {
    // dueAt: the renewed certificate's window (renewal.nextDueAt).
    const res = await this.model
      .updateOne(
        { _id: winDeviceId, lockToken, renewalThumbprint: renewed.thumbprint },
        {
          $set: {
            certificate: renewed,
            certificateThumbprint: renewed.thumbprint,
            renewal: dueAt ? { dueAt } : {},
          },
          $unset: { renewalThumbprint: '' },
        },
      )
      .exec();
    return res.matchedCount === 1;
  }

  /** Saves the session (and inventory, lastSeenAt) and releases the lock: one update. */
  async release(winDeviceId: string, lockToken: string, patch?: CheckinPatch): Promise<boolean> {
    const { set, unset } = patch ? patchUpdate(patch) : { set: {}, unset: {} };
    set.lockedUntil = null;
    set.lockToken = null;
    if (patch) set.savedBy = lockToken;
    const res = await this.model
      .updateOne(
        { _id: winDeviceId, lockToken },
        Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set },
        { timestamps: false },
      )
      .exec();
    return res.matchedCount === 1;
  }

  /**
   * Before commands are written for the device: the marker moves and one more write is in
   * flight. A check-in that reads the marker with no write in flight knows every command
   * written before it is visible to its queue query.
   */
  async beginQueueWrite(winDeviceId: string): Promise<void> {
    await this.model
      .updateOne(
        { _id: winDeviceId },
        { $inc: { queueSeq: 1, queueWrites: 1 } },
        { timestamps: false },
      )
      .exec();
  }

  /**
   * beginQueueWrite for the organization's device by winDeviceId or Windows device id, only if
   * it is active: the lookup and the marker's first move in one update. The device as updated,
   * or null (missing, another tenant's, not active): then nothing moved.
   */
  async beginQueueWriteIfActive(orgId: string, winDeviceIdOrDeviceId: string) {
    const doc = await firstMatch(devicesInOrganization(orgId, winDeviceIdOrDeviceId), (filter) =>
      this.model
        .findOneAndUpdate(
          { ...filter, status: DeviceStatus.Active },
          { $inc: { queueSeq: 1, queueWrites: 1 } },
          // FerretDB 1.24 refuses a projection on findAndModify (toWinDevice drops the session).
          { new: true, timestamps: false },
        )
        .lean<WinDeviceDoc>()
        .exec(),
    );
    return doc ? toWinDevice(doc) : null;
  }

  /** After that write settled (written or failed). */
  async settleQueueWrite(winDeviceId: string): Promise<void> {
    await this.model
      .updateOne({ _id: winDeviceId }, { $inc: { queueWrites: -1 } }, { timestamps: false })
      .exec();
  }

  /**
   * Ends the device's management (device request or administrator); with `from`, only a device
   * in one of those statuses. The certificate it had, for its binding to be removed. The
   * `device.unenrolled` event is recorded in the same update (outbox).
   */
  async markUnenrolled(
    orgId: string,
    winDeviceId: string,
    at: Date,
    from?: DeviceStatus[],
  ): Promise<{ changed: boolean; previous?: DeviceStatus; thumbprint?: string }> {
    const doc = await this.model
      .findOneAndUpdate(
        {
          _id: winDeviceId,
          organizationId: orgId,
          status: from ? { $in: from } : { $ne: DeviceStatus.Unenrolled },
        },
        withOutbox(
          {
            $set: { status: DeviceStatus.Unenrolled, unenrolledAt: at },
            $unset: { unenrollDeadline: '' },
          },
          outboxEntry(OutboxEvent.DeviceUnenrolled, at),
        ),
        // No projection: FerretDB 1.24 refuses findAndModify with `fields`.
        { new: false },
      )
      .lean<WinDeviceDoc>()
      .exec();
    return { changed: !!doc, previous: doc?.status, thumbprint: doc?.certificateThumbprint };
  }
}

/** The update that saves a message's outcome (session, inventory, lastSeenAt, push). */
function patchUpdate(patch: CheckinPatch): {
  set: Record<string, unknown>;
  unset: Record<string, ''>;
} {
  const set: Record<string, unknown> = { syncml: patch.session };
  const unset: Record<string, ''> = {};
  if (patch.inventory) set.inventory = patch.inventory;
  if (patch.lastSeenAt) set.lastSeenAt = patch.lastSeenAt;
  if (patch.push) {
    // Field by field: the push object read at lock time would undo a concurrent forgetChannel.
    const { channelUri, status, readAt } = patch.push;
    if (channelUri === null) unset['push.channelUri'] = '';
    else if (channelUri !== undefined) set['push.channelUri'] = channelUri;
    if (status !== undefined) set['push.status'] = status;
    set['push.readAt'] = readAt;
  }
  // updatedAt moves only when something an administrator sees changed.
  if (patch.inventory || patch.push) set.updatedAt = new Date();
  return { set, unset };
}
