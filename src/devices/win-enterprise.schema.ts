import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, SchemaTypes, Types } from 'mongoose';
import type { PollSchedule } from './devices.types';

/** The enterprise device CA; `sealedPrivateKey` is AES-256-GCM under MASTER_KEY (key-vault.ts). */
export interface EnterpriseCaRecord {
  certificatePem: string;
  thumbprint: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  sealedPrivateKey: string;
}

@Schema({ collection: 'win_enterprises', timestamps: true, versionKey: false })
export class WinEnterpriseDoc {
  _id!: Types.ObjectId;

  @Prop({ required: true, unique: true, type: SchemaTypes.ObjectId })
  organizationId!: Types.ObjectId;

  @Prop({ type: String, required: true, maxlength: 200 })
  name!: string;

  @Prop({ type: String, required: true, default: 'active' })
  status!: 'active';

  /**
   * E-mail domains whose users enroll here (lower case). Not a unique index: a unique multikey
   * index refuses a second empty array, and partial indexes are outside the portable subset,
   * so the service checks for clashes before writing.
   */
  @Prop({ type: [String], default: [], index: true })
  domains!: string[];

  @Prop({ type: Object })
  ca?: EnterpriseCaRecord;

  /** SHA-256 (hex) of the enrollment secret, and when it was set. */
  @Prop({ type: String })
  enrollmentSecretHash?: string;

  @Prop({ type: Date })
  enrollmentSecretRotatedAt?: Date;

  @Prop({ type: Object })
  pollSchedule?: PollSchedule;

  /**
   * Set with a new `pollSchedule`, cleared once it is queued to every managed device: a change
   * that failed part-way is queued again by the next update, even one with the same schedule.
   */
  @Prop({ type: Boolean })
  pollSchedulePending?: boolean;

  createdAt!: Date;
  updatedAt!: Date;
}

export type WinEnterpriseDocument = HydratedDocument<WinEnterpriseDoc>;
export const WinEnterpriseSchema = SchemaFactory.createForClass(WinEnterpriseDoc);
