import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model } from 'mongoose';
import { findPage } from '../common/mongo/find-page';
import { firstMatch } from '../common/mongo/first-match';
import { isDuplicateKey } from '../common/mongo/mongo-errors';
import { OBJECT_ID, newObjectId } from '../common/mongo/object-id';
import { OutboxEvent, outboxEntry, withOutbox } from '../common/mongo/outbox';
import { ReadModels } from '../common/mongo/read-pool';
import { Page, PageRequest } from '../common/pagination/pagination';
import {
  DeviceCertificateInfo,
  DeviceEnrollmentInfo,
  DeviceRenewalInfo,
  DeviceStatus,
  WinDevice,
  renewalState,
} from './devices.types';
import { labelDeltas } from './target-counts';
import { TargetCountsRepository } from './target-counts.repository';
import { WinDeviceDoc } from './win-device.schema';

export function toWinDevice(d: WinDeviceDoc): WinDevice {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winEnterpriseId: d.winEnterpriseId.toHexString(),
    deviceId: d.deviceId,
    name: d.name,
    mdmUserId: d.mdmUserId?.toHexString(),
    status: d.status,
    certificate: d.certificate,
    renewal: {
      ...d.renewal,
      state: renewalState(d.certificate, d.renewal, new Date()),
    },
    inventory: d.inventory,
    enrollment: d.enrollment,
    lastSeenAt: d.lastSeenAt,
    labels: d.labels ?? [],
    push: d.push,
    unenrollRequestedAt: d.unenrollRequestedAt,
    unenrollDeadline: d.unenrollDeadline,
    unenrolledAt: d.unenrolledAt,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** Admin reads never carry the session state (it holds the last SyncML response). */
const ADMIN_PROJECTION = { syncml: 0, lockedUntil: 0, lockToken: 0 };

/**
 * A device by winDeviceId (24-hex) or by Windows device id, only inside the given organization:
 * the filters to try in turn, the first that finds a device wins. Not one `$or` of both: FerretDB
 * pushes down only top-level equalities, and with `$or` it decoded every device of the
 * organization for each lookup, each enqueue included (decisions.md §56).
 */
export function devicesInOrganization(
  orgId: string,
  winDeviceIdOrDeviceId: string,
): FilterQuery<WinDeviceDoc>[] {
  const key = winDeviceIdOrDeviceId;
  return OBJECT_ID.test(key)
    ? [
        { organizationId: orgId, _id: key },
        { organizationId: orgId, deviceId: key },
      ]
    : [{ organizationId: orgId, deviceId: key }];
}

/**
 * The device a certificate identifies: the filters to try in turn, its current certificate, then
 * a renewed one it has not used yet (one top-level equality each, decisions.md §56).
 */
export function devicesByCertificate(thumbprint: string): FilterQuery<WinDeviceDoc>[] {
  return [{ certificateThumbprint: thumbprint }, { renewalThumbprint: thumbprint }];
}

export class DuplicateDeviceError extends Error {}

export interface EnrolledDevice {
  deviceId: string;
  name?: string;
  mdmUserId: string;
  certificate: DeviceCertificateInfo;
  /** Start of the certificate's renewal window. */
  renewalDueAt: Date;
  enrollment: DeviceEnrollmentInfo;
}

export interface NewDevice {
  /** From newId(), when a certificate is bound to the device before it is inserted. */
  id?: string;
  deviceId: string;
  name?: string;
  mdmUserId?: string;
  certificate?: DeviceCertificateInfo;
}

@Injectable()
export class WinDevicesRepository {
  /** For the REST API's lookups and lists, on the read pool (decisions.md §45). */
  private readonly reader: Model<WinDeviceDoc>;

  constructor(
    @InjectModel(WinDeviceDoc.name) private readonly model: Model<WinDeviceDoc>,
    reads: ReadModels,
    private readonly counts: TargetCountsRepository,
  ) {
    this.reader = reads.of(model);
  }

  /** An id for a device about to be created, when something must refer to it before the insert. */
  newId(): string {
    return newObjectId();
  }

  async create(orgId: string, winEnterpriseId: string, input: NewDevice): Promise<WinDevice> {
    try {
      const doc = await this.model.create({
        ...(input.id && { _id: input.id }),
        organizationId: orgId,
        winEnterpriseId,
        deviceId: input.deviceId,
        name: input.name,
        mdmUserId: input.mdmUserId,
        status: 'active',
        certificate: input.certificate,
        certificateThumbprint: input.certificate?.thumbprint,
      });
      await this.counted(winEnterpriseId);
      return toWinDevice(doc.toObject());
    } catch (e) {
      if (isDuplicateKey(e)) throw new DuplicateDeviceError(input.deviceId);
      throw e;
    }
  }

  /** By winDeviceId (24-hex) or by Windows device id, only inside the given organization. */
  async findInOrganization(
    orgId: string,
    winDeviceIdOrDeviceId: string,
  ): Promise<WinDevice | null> {
    const doc = await firstMatch(devicesInOrganization(orgId, winDeviceIdOrDeviceId), (filter) =>
      this.reader.findOne(filter).select(ADMIN_PROJECTION).lean<WinDeviceDoc>().exec(),
    );
    return doc ? toWinDevice(doc) : null;
  }

  async list(
    orgId: string,
    winEnterpriseId: string,
    page: PageRequest,
    status?: DeviceStatus,
  ): Promise<Page<WinDevice>> {
    const filter: FilterQuery<WinDeviceDoc> = { organizationId: orgId, winEnterpriseId };
    if (status) filter.status = status;
    return findPage(this.reader, filter, page, toWinDevice, ADMIN_PROJECTION);
  }

  /** Conditional single-document update; null when the device is gone or not in `from`. */
  async update(
    orgId: string,
    winDeviceId: string,
    patch: {
      status?: DeviceStatus;
      name?: string;
      certificate?: DeviceCertificateInfo;
      labels?: string[];
    },
    from?: DeviceStatus[],
  ): Promise<WinDevice | null> {
    const filter: FilterQuery<WinDeviceDoc> = { _id: winDeviceId, organizationId: orgId };
    if (from) filter.status = { $in: from };
    const set: Record<string, unknown> = {};
    if (patch.status) set.status = patch.status;
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.labels !== undefined) set.labels = patch.labels;
    const unset: Record<string, ''> = {};
    if (patch.certificate) {
      set.certificate = patch.certificate;
      set.certificateThumbprint = patch.certificate.thumbprint;
      // An administrator's certificate is renewed by the administrator: no window, no pending one.
      unset.renewal = '';
      unset.renewalThumbprint = '';
    }
    const hasUnset = Object.keys(unset).length > 0;
    // No projection here: FerretDB 1.24 refuses findAndModify with `fields` ("not implemented
    // yet"), and toWinDevice drops the session state anyway.
    if (patch.labels === undefined) {
      const doc = await this.model
        .findOneAndUpdate(filter, hasUnset ? { $set: set, $unset: unset } : { $set: set }, {
          new: true,
        })
        .lean<WinDeviceDoc>()
        .exec();
      return doc ? toWinDevice(doc) : null;
    }
    // Labels: the document before the write says which labels this write added and removed
    // (a racing PATCH may have changed them since the caller read the device), for the counts.
    set.updatedAt = new Date();
    const before = await this.model
      .findOneAndUpdate(filter, hasUnset ? { $set: set, $unset: unset } : { $set: set }, {
        new: false,
        timestamps: false,
      })
      .lean<WinDeviceDoc>()
      .exec();
    if (!before) return null;
    await this.counts.bump(
      before.winEnterpriseId.toHexString(),
      labelDeltas(before.labels ?? [], patch.labels),
    );
    const after: Record<string, unknown> = { ...before, ...set };
    for (const key of Object.keys(unset)) delete after[key];
    return toWinDevice(after as unknown as WinDeviceDoc);
  }

  /** A device was inserted: one more in its enterprise (it has no label yet). */
  private counted(winEnterpriseId: string): Promise<void> {
    return this.counts.bump(winEnterpriseId, new Map([[null, 1]]));
  }

  /** Administrator unenrollment starts: only from active or inactive. */
  async markUnenrolling(
    orgId: string,
    winDeviceId: string,
    at: Date,
    deadline: Date,
  ): Promise<boolean> {
    const res = await this.model
      .updateOne(
        {
          _id: winDeviceId,
          organizationId: orgId,
          status: { $in: [DeviceStatus.Active, DeviceStatus.Inactive] },
        },
        {
          $set: {
            status: DeviceStatus.Unenrolling,
            unenrollRequestedAt: at,
            unenrollDeadline: deadline,
          },
        },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /** The ids of the enterprise's devices that poll (active or inactive), in batches. */
  async managedDeviceIds(
    orgId: string,
    winEnterpriseId: string,
    afterId: string | null,
    limit: number,
  ): Promise<WinDevice[]> {
    const filter: FilterQuery<WinDeviceDoc> = {
      organizationId: orgId,
      winEnterpriseId,
      status: { $in: [DeviceStatus.Active, DeviceStatus.Inactive] },
    };
    if (afterId) filter._id = { $gt: afterId };
    const docs = await this.model
      .find(filter)
      .sort({ _id: 1 })
      .limit(limit)
      .select(ADMIN_PROJECTION)
      .lean<WinDeviceDoc[]>()
      .exec();
    return docs.map(toWinDevice);
  }

  /**
   * WNS said the channel is gone: forget it unless the device reported another meanwhile; without
   * its read time the next session reads the channel again.
   */
  async forgetChannel(winDeviceId: string, channelUri: string): Promise<void> {
    await this.model
      .updateOne(
        { _id: winDeviceId, 'push.channelUri': channelUri },
        { $unset: { 'push.channelUri': '', 'push.readAt': '' } },
        { timestamps: false },
      )
      .exec();
  }

  /** The device with this Windows device id in the enterprise (device-facing code, no tenant user). */
  async findByDeviceId(winEnterpriseId: string, deviceId: string): Promise<WinDevice | null> {
    const doc = await this.model
      .findOne({ winEnterpriseId, deviceId })
      .select(ADMIN_PROJECTION)
      .lean<WinDeviceDoc>()
      .exec();
    return doc ? toWinDevice(doc) : null;
  }

  /**
   * Enrollment: `existing` (as read just before) re-enrolled — its certificate replaced, an
   * unenrolled device active again, an inactive one left inactive; its commands and events stay —
   * or, without `existing`, a new device with the given id. Conditional on the device still
   * being in the state read, so a concurrent change is never overwritten; null when it was.
   */
  async upsertEnrolled(
    orgId: string,
    winEnterpriseId: string,
    input: EnrolledDevice & { id: string },
    existing: WinDevice | null,
  ): Promise<{ device: WinDevice; created: boolean } | null> {
    if (existing) {
      const status =
        existing.status === DeviceStatus.Inactive ? DeviceStatus.Inactive : DeviceStatus.Active;
      const doc = await this.model
        .findOneAndUpdate(
          {
            _id: existing.id,
            organizationId: orgId,
            // Exactly as read: status, owner and certificate (null also matches a missing field).
            status: existing.status,
            mdmUserId: existing.mdmUserId ?? null,
            certificateThumbprint: existing.certificate?.thumbprint ?? null,
          },
          withOutbox(
            {
              $set: {
                status,
                mdmUserId: input.mdmUserId,
                certificate: input.certificate,
                certificateThumbprint: input.certificate.thumbprint,
                renewal: { dueAt: input.renewalDueAt },
                enrollment: input.enrollment,
              },
              // A new enrollment: its own channel, an unenrollment in progress is over, and a
              // renewed certificate not used yet is replaced with the rest.
              $unset: {
                unenrolledAt: '',
                unenrollRequestedAt: '',
                unenrollDeadline: '',
                push: '',
                renewalThumbprint: '',
              },
            },
            outboxEntry(OutboxEvent.DeviceEnrolled, new Date()),
          ),
          { new: true },
        )
        .lean<WinDeviceDoc>()
        .exec();
      return doc ? { device: toWinDevice(doc), created: false } : null;
    }
    try {
      const enrolled = outboxEntry(OutboxEvent.DeviceEnrolled, new Date());
      const created = await this.model.create({
        outbox: [enrolled],
        outboxAt: enrolled.at,
        outboxDue: true,
        _id: input.id,
        organizationId: orgId,
        winEnterpriseId,
        deviceId: input.deviceId,
        name: input.name,
        mdmUserId: input.mdmUserId,
        status: DeviceStatus.Active,
        certificate: input.certificate,
        certificateThumbprint: input.certificate.thumbprint,
        renewal: { dueAt: input.renewalDueAt },
        enrollment: input.enrollment,
      });
      await this.counted(winEnterpriseId);
      return { device: toWinDevice(created.toObject()), created: true };
    } catch (e) {
      // A concurrent enrollment of the same id created it first: the caller reads it again.
      if (isDuplicateKey(e)) return null;
      throw e;
    }
  }

  /** The device a certificate identifies: its current one or a renewed one not used yet. */
  async findByCertificate(thumbprint: string): Promise<WinDevice | null> {
    const doc = await firstMatch(devicesByCertificate(thumbprint), (filter) =>
      this.model.findOne(filter).select(ADMIN_PROJECTION).lean<WinDeviceDoc>().exec(),
    );
    return doc ? toWinDevice(doc) : null;
  }

  /**
   * Renewal: `current` stays the certificate in use, `renewed` waits for its first use. Conditional
   * on the device's certificates and status as read; null when they changed meanwhile.
   */
  async setRenewed(
    existing: WinDevice,
    current: DeviceCertificateInfo,
    renewed: DeviceCertificateInfo,
    renewal: Required<Pick<DeviceRenewalInfo, 'dueAt' | 'nextDueAt' | 'renewedAt'>>,
  ): Promise<WinDevice | null> {
    const doc = await this.model
      .findOneAndUpdate(
        {
          _id: existing.id,
          organizationId: existing.organizationId,
          status: existing.status,
          certificateThumbprint: existing.certificate?.thumbprint ?? null,
          renewalThumbprint: existing.renewal.certificate?.thumbprint ?? null,
        },
        {
          $set: {
            certificate: current,
            certificateThumbprint: current.thumbprint,
            renewal: { ...renewal, certificate: renewed },
            renewalThumbprint: renewed.thumbprint,
          },
        },
        { new: true },
      )
      .lean<WinDeviceDoc>()
      .exec();
    return doc ? toWinDevice(doc) : null;
  }
}
