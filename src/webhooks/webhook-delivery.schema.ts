import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';

/**
 * One event for one subscription. `_id` is `<event id>:<subscription id>`, so a relay that runs
 * twice (a crash, two instances) cannot queue the same event twice for a subscriber.
 */
@Schema({ collection: 'webhook_deliveries', timestamps: true, versionKey: false })
export class WebhookDeliveryDoc {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) subscriptionId!: Types.ObjectId;
  @Prop({ type: String, required: true }) eventId!: string;
  @Prop({ type: String, required: true }) eventType!: string;
  /** The JSON sent, fixed once: every attempt sends (and signs) the same bytes. */
  @Prop({ type: String, required: true }) body!: string;
  @Prop({ type: String, required: true }) status!: string;
  @Prop({ type: Number, required: true, default: 0 }) attempts!: number;
  @Prop({ type: Date, required: true }) nextAttemptAt!: Date;
  /** Past this, a failed attempt makes the delivery dead instead of scheduling another. */
  @Prop({ type: Date, required: true }) deadline!: Date;
  /** The instance sending it holds it until then (epoch 0: free). */
  @Prop({ type: Date, required: true }) leaseUntil!: Date;
  @Prop({ type: String, default: null }) leaseOwner!: string | null;
  @Prop({ type: Date, default: null }) lastAttemptAt!: Date | null;
  @Prop({ type: Number, default: null }) lastStatusCode!: number | null;
  @Prop({ type: Number, default: null }) lastLatencyMs!: number | null;
  @Prop({ type: String, default: null }) lastError!: string | null;
  @Prop({ type: Date, default: null }) deliveredAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WebhookDeliverySchema = SchemaFactory.createForClass(WebhookDeliveryDoc);
WebhookDeliverySchema.index({ status: 1, nextAttemptAt: 1 });
WebhookDeliverySchema.index({ subscriptionId: 1, createdAt: -1 });
