import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';

/** Alerts a device raised (1224 client events, 1226 generic alerts): its event log. */
@Schema({ collection: 'device_events', versionKey: false })
export class DeviceEventDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winDeviceId!: Types.ObjectId;
  @Prop({ type: String, required: true }) alertCode!: string;
  @Prop({ type: String }) type?: string;
  @Prop({ type: String }) format?: string;
  @Prop({ type: String }) mark?: string;
  @Prop({ type: String }) source?: string;
  @Prop({ type: String }) data?: string;
  @Prop({ type: Date, required: true }) receivedAt!: Date;
  /** The alert is its own outbox record: false until the webhooks relay has fanned it out. */
  @Prop({ type: Boolean, default: false }) published?: boolean;
}
export const DeviceEventSchema = SchemaFactory.createForClass(DeviceEventDoc);
DeviceEventSchema.index({ winDeviceId: 1, receivedAt: -1 });
DeviceEventSchema.index({ published: 1, receivedAt: 1 });

export interface DeviceEvent {
  id: string;
  winDeviceId: string;
  alertCode: string;
  type?: string;
  format?: string;
  mark?: string;
  source?: string;
  data?: string;
  receivedAt: Date;
}
