import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';

/**
 * A one-time enrollment invitation. Only the SHA-256 of the token is stored; `usedAt` moves from
 * null to a date once, by a conditional single-document update. Expired ones stay (no TTL index
 * in the portable subset) and are refused by their `expiresAt`.
 */
@Schema({ collection: 'win_enrollment_invitations', versionKey: false })
export class EnrollmentInvitationDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winEnterpriseId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) mdmUserId!: Types.ObjectId;
  @Prop({ type: String, required: true }) email!: string;
  @Prop({ type: String, required: true, unique: true }) tokenHash!: string;
  @Prop({ type: Date, required: true }) expiresAt!: Date;
  @Prop({ type: Date, default: null }) usedAt!: Date | null;
  /** The Windows device id that consumed it. */
  @Prop({ type: String, default: null }) usedByDeviceId!: string | null;
  @Prop({ type: String, required: true }) createdBy!: string;
  @Prop({ type: Date, required: true }) createdAt!: Date;
}
export const EnrollmentInvitationSchema = SchemaFactory.createForClass(EnrollmentInvitationDoc);
EnrollmentInvitationSchema.index({ winEnterpriseId: 1, createdAt: -1 });
