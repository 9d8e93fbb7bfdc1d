import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model } from 'mongoose';
import { PageRequest } from '../common/pagination/pagination';
import { OBJECT_ID } from '../organizations/organization';
import {
  DeviceCertificateInfo,
  DeviceEnrollmentInfo,
  DeviceStatus,
  WinDevice,
} from './devices.types';
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
    inventory: d.inventory,
    enrollment: d.enrollment,
    lastSeenAt: d.lastSeenAt,
    unenrolledAt: d.unenrolledAt,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** Admin reads never carry the session state (it holds the last SyncML response). */
const ADMIN_PROJECTION = { syncml: 0, lockedUntil: 0, lockToken: 0 };

export class DuplicateDeviceError extends Error {}

export interface EnrolledDevice {
  deviceId: string;
  name?: string;
  mdmUserId: string;
  certificate: DeviceCertificateInfo;
  enrollment: DeviceEnrollmentInfo;
}

export interface NewDevice {
  /** The device's id, chosen before insert so a certificate can be bound to it first. */
  id?: string;
  deviceId: string;
  name?: string;
  mdmUserId?: string;
  certificate?: DeviceCertificateInfo;
}

@Injectable()
export class WinDevicesRepository {
  constructor(@InjectModel(WinDeviceDoc.name) private readonly model: Model<WinDeviceDoc>) {}

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
      return toWinDevice(doc.toObject());
    } catch (e) {
      if ((e as { code?: number }).code === 11000) throw new DuplicateDeviceError(input.deviceId);
      throw e;
    }
  }

  /** By 24-hex id or by Windows device id, only inside the given organization. */
  async findInOrganization(orgId: string, idOrDeviceId: string): Promise<WinDevice | null> {
    const filter: FilterQuery<WinDeviceDoc> = OBJECT_ID.test(idOrDeviceId)
      ? { organizationId: orgId, $or: [{ _id: idOrDeviceId }, { deviceId: idOrDeviceId }] }
      : { organizationId: orgId, deviceId: idOrDeviceId };
    const doc = await this.model
      .findOne(filter)
      .select(ADMIN_PROJECTION)
      .lean<WinDeviceDoc>()
      .exec();
    return doc ? toWinDevice(doc) : null;
  }

  async list(
    orgId: string,
    winEnterpriseId: string,
    page: PageRequest,
    status?: DeviceStatus,
  ): Promise<[WinDevice[], number]> {
    const filter: FilterQuery<WinDeviceDoc> = { organizationId: orgId, winEnterpriseId };
    if (status) filter.status = status;
    const [docs, total] = await Promise.all([
      this.model
        .find(filter)
        .select(ADMIN_PROJECTION)
        .sort({ [page.sort.field]: page.sort.direction, _id: page.sort.direction })
        .skip((page.page - 1) * page.limit)
        .limit(page.limit)
        .lean<WinDeviceDoc[]>()
        .exec(),
      this.model.countDocuments(filter).exec(),
    ]);
    return [docs.map(toWinDevice), total];
  }

  /** Conditional single-document update; null when the device is gone or not in `from`. */
  async update(
    orgId: string,
    id: string,
    patch: { status?: DeviceStatus; name?: string; certificate?: DeviceCertificateInfo },
    from?: DeviceStatus[],
  ): Promise<WinDevice | null> {
    const filter: FilterQuery<WinDeviceDoc> = { _id: id, organizationId: orgId };
    if (from) filter.status = { $in: from };
    const set: Record<string, unknown> = {};
    if (patch.status) set.status = patch.status;
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.certificate) {
      set.certificate = patch.certificate;
      set.certificateThumbprint = patch.certificate.thumbprint;
    }
    // No projection here: FerretDB 1.24 refuses findAndModify with `fields` ("not implemented
    // yet"), and toWinDevice drops the session state anyway.
    const doc = await this.model
      .findOneAndUpdate(filter, { $set: set }, { new: true })
      .lean<WinDeviceDoc>()
      .exec();
    return doc ? toWinDevice(doc) : null;
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
          {
            $set: {
              status,
              mdmUserId: input.mdmUserId,
              certificate: input.certificate,
              certificateThumbprint: input.certificate.thumbprint,
              enrollment: input.enrollment,
            },
            $unset: { unenrolledAt: '' },
          },
          { new: true },
        )
        .lean<WinDeviceDoc>()
        .exec();
      return doc ? { device: toWinDevice(doc), created: false } : null;
    }
    try {
      const created = await this.model.create({
        _id: input.id,
        organizationId: orgId,
        winEnterpriseId,
        deviceId: input.deviceId,
        name: input.name,
        mdmUserId: input.mdmUserId,
        status: DeviceStatus.Active,
        certificate: input.certificate,
        certificateThumbprint: input.certificate.thumbprint,
        enrollment: input.enrollment,
      });
      return { device: toWinDevice(created.toObject()), created: true };
    } catch (e) {
      // A concurrent enrollment of the same id created it first: the caller reads it again.
      if ((e as { code?: number }).code === 11000) return null;
      throw e;
    }
  }
}
