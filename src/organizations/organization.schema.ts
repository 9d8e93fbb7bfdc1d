import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';

@Schema({ collection: 'organizations', timestamps: true, versionKey: false })
export class OrganizationDoc {
  _id!: Types.ObjectId;

  @Prop({ type: String, required: true, maxlength: 200 })
  name!: string;

  @Prop({ type: String, required: true, unique: true })
  slug!: string;

  @Prop({ type: String, required: true, default: 'active' })
  status!: 'active' | 'suspended';

  createdAt!: Date;
  updatedAt!: Date;
}

export type OrganizationDocument = HydratedDocument<OrganizationDoc>;
export const OrganizationSchema = SchemaFactory.createForClass(OrganizationDoc);
