import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { EnrollmentInvitationDoc } from './enrollment-invitation.schema';

export interface EnrollmentInvitation {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  mdmUserId: string;
  email: string;
  tokenHash: string;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: Date;
}

export interface NewInvitation {
  winEnterpriseId: string;
  mdmUserId: string;
  email: string;
  tokenHash: string;
  expiresAt: Date;
  createdBy: string;
}

function toInvitation(d: EnrollmentInvitationDoc): EnrollmentInvitation {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    winEnterpriseId: d.winEnterpriseId.toHexString(),
    mdmUserId: d.mdmUserId.toHexString(),
    email: d.email,
    tokenHash: d.tokenHash,
    expiresAt: d.expiresAt,
    usedAt: d.usedAt ?? null,
    createdAt: d.createdAt,
  };
}

/** Enrollment invitations: the only code touching their collection. */
@Injectable()
export class EnrollmentRepository {
  constructor(
    @InjectModel(EnrollmentInvitationDoc.name)
    private readonly invitations: Model<EnrollmentInvitationDoc>,
  ) {}

  async insertInvitations(
    orgId: string,
    items: NewInvitation[],
    now: Date,
  ): Promise<EnrollmentInvitation[]> {
    const docs = await this.invitations.insertMany(
      items.map((i) => ({
        ...i,
        organizationId: orgId,
        usedAt: null,
        usedByDeviceId: null,
        createdAt: now,
      })),
      { ordered: true },
    );
    return docs.map((d) => toInvitation(d.toObject()));
  }

  async findInvitationByHash(tokenHash: string): Promise<EnrollmentInvitation | null> {
    const doc = await this.invitations
      .findOne({ tokenHash })
      .lean<EnrollmentInvitationDoc>()
      .exec();
    return doc ? toInvitation(doc) : null;
  }

  /** Marks the invitation used if it still is unused and unexpired: true for exactly one caller. */
  async consumeInvitation(id: string, deviceId: string, now: Date): Promise<boolean> {
    const res = await this.invitations
      .updateOne(
        { _id: id, usedAt: null, expiresAt: { $gt: now } },
        { $set: { usedAt: now, usedByDeviceId: deviceId } },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /** Undoes consumeInvitation when the enrollment failed afterwards (only that consumption). */
  async releaseInvitation(id: string, usedAt: Date): Promise<void> {
    await this.invitations
      .updateOne({ _id: id, usedAt }, { $set: { usedAt: null, usedByDeviceId: null } })
      .exec();
  }
}
