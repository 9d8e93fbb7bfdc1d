import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One document per client-certificate thumbprint, `_id` = the thumbprint: a certificate opens
 * management sessions for exactly one device. A unique `_id` (not a unique index on an optional
 * device field) keeps this inside the portable Mongo subset.
 */
@Schema({ collection: 'device_certificates', versionKey: false })
export class DeviceCertificateDoc {
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) winDeviceId!: string;
  @Prop({ type: String, required: true }) organizationId!: string;
  @Prop({ type: Date, required: true }) boundAt!: Date;
}
export const DeviceCertificateSchema = SchemaFactory.createForClass(DeviceCertificateDoc);
