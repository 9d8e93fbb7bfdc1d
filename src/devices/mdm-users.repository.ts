import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isDuplicateKey } from '../common/mongo/mongo-errors';
import { MdmUserDoc } from './mdm-user.schema';

/** MDM users (people whose devices enroll): the only code touching mdm_users. */
@Injectable()
export class MdmUsersRepository {
  constructor(@InjectModel(MdmUserDoc.name) private readonly users: Model<MdmUserDoc>) {}

  /** The user's id, creating the user on first sight; concurrent first sights meet on the unique index. */
  async ensureUser(orgId: string, email: string): Promise<string> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const doc = await this.users
          .findOneAndUpdate(
            { organizationId: orgId, email },
            { $setOnInsert: { organizationId: orgId, email } },
            { upsert: true, new: true },
          )
          .lean<MdmUserDoc>()
          .exec();
        if (doc) return doc._id.toHexString();
      } catch (e) {
        if (!isDuplicateKey(e)) throw e;
      }
    }
    const doc = await this.users
      .findOne({ organizationId: orgId, email })
      .lean<MdmUserDoc>()
      .exec();
    if (!doc) throw new Error(`could not create the MDM user ${email}`);
    return doc._id.toHexString();
  }

  /** The user's id if the user exists; creates nothing (checks before an enrollment is accepted). */
  async findUserId(orgId: string, email: string): Promise<string | null> {
    const doc = await this.users
      .findOne({ organizationId: orgId, email })
      .select({ _id: 1 })
      .lean<Pick<MdmUserDoc, '_id'>>()
      .exec();
    return doc ? doc._id.toHexString() : null;
  }

  /** Whether the id names an MDM user of this organization. */
  async exists(orgId: string, id: string): Promise<boolean> {
    return (await this.users.exists({ _id: id, organizationId: orgId })) !== null;
  }
}
