import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';

/** A person whose devices enroll: one per e-mail address per organization. */
@Schema({ collection: 'mdm_users', timestamps: true, versionKey: false })
export class MdmUserDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  /** Lower case. */
  @Prop({ type: String, required: true }) email!: string;
  createdAt!: Date;
  updatedAt!: Date;
}
export const MdmUserSchema = SchemaFactory.createForClass(MdmUserDoc);
MdmUserSchema.index({ organizationId: 1, email: 1 }, { unique: true });
