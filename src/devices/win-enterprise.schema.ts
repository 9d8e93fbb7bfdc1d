import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, SchemaTypes, Types } from 'mongoose';

@Schema({ collection: 'win_enterprises', timestamps: true, versionKey: false })
export class WinEnterpriseDoc {
  _id!: Types.ObjectId;

  @Prop({ required: true, unique: true, type: SchemaTypes.ObjectId })
  organizationId!: Types.ObjectId;

  @Prop({ type: String, required: true, maxlength: 200 })
  name!: string;

  @Prop({ type: String, required: true, default: 'active' })
  status!: 'active';

  createdAt!: Date;
  updatedAt!: Date;
}

export type WinEnterpriseDocument = HydratedDocument<WinEnterpriseDoc>;
export const WinEnterpriseSchema = SchemaFactory.createForClass(WinEnterpriseDoc);
