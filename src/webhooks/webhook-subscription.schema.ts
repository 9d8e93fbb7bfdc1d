import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';

@Schema({ collection: 'webhook_subscriptions', timestamps: true, versionKey: false })
export class WebhookSubscriptionDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ type: String, required: true }) url!: string;
  @Prop({ type: [String], required: true }) events!: string[];
  /** Empty: every device of the organization. */
  @Prop({ type: [String], default: [] }) deviceIds!: string[];
  @Prop({ type: Boolean, required: true }) active!: boolean;
  @Prop({ type: String, default: null }) description!: string | null;
  /** The signing secret, sealed under MASTER_KEY (pki/key-vault) with the subscription id as context. */
  @Prop({ type: String, required: true }) secretSealed!: string;
  @Prop({ type: String, default: null }) previousSecretSealed!: string | null;
  @Prop({ type: Date, default: null }) previousSecretExpiresAt!: Date | null;
  @Prop({ type: Date, default: null }) secretRotatedAt!: Date | null;
  /** Start of the current run of failed attempts; null after a success. */
  @Prop({ type: Date, default: null }) failingSince!: Date | null;
  @Prop({ type: String, default: null }) disabledReason!: string | null;
  @Prop({ type: Date, default: null }) disabledAt!: Date | null;
  @Prop({ type: String, required: true }) createdBy!: string;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WebhookSubscriptionSchema = SchemaFactory.createForClass(WebhookSubscriptionDoc);
WebhookSubscriptionSchema.index({ organizationId: 1, createdAt: -1 });
WebhookSubscriptionSchema.index({ organizationId: 1, active: 1 });
