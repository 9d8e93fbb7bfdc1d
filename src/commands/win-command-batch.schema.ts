import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OUTBOX_FIELDS } from '../common/mongo/outbox';
import { SchemaTypes, Types } from 'mongoose';
import type { BatchAction, CommandOrigin, StatusCount } from './commands.types';

@Schema({ collection: 'win_command_batches', timestamps: true, versionKey: false })
export class WinCommandBatchDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winEnterpriseId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winDeviceId!: Types.ObjectId;
  @Prop({ type: SchemaTypes.ObjectId, default: null }) mdmUserId!: Types.ObjectId | null;
  @Prop({ type: String, default: null }) name!: string | null;
  @Prop({ type: String, required: true }) createdBy!: string;
  @Prop({ type: Number, required: true }) commandCount!: number;
  @Prop({ type: Object, default: undefined }) action?: BatchAction;
  @Prop({ type: Object, default: undefined }) origin?: CommandOrigin;
  @Prop({ type: Boolean, default: undefined }) atomic?: boolean;
  /**
   * Per status, how many of its commands are in it, stored by the first read that finds every
   * one of them final (a final status never changes): decisions.md §46.
   */
  @Prop({ type: [Object], default: undefined }) finalSummary?: StatusCount[];
  /**
   * How many times the history retention thinned the batch (absent: never). `finalSummary` is
   * written only under the epoch read before the count, so a count older than a thinning never
   * lands after it.
   */
  @Prop({ type: Number, default: undefined }) summaryEpoch?: number;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WinCommandBatchSchema = SchemaFactory.createForClass(WinCommandBatchDoc);
WinCommandBatchSchema.index({ winDeviceId: 1, createdAt: -1 });
// Webhook events recorded with the change that causes them (common/mongo/outbox.ts).
WinCommandBatchSchema.add(OUTBOX_FIELDS);
WinCommandBatchSchema.index({ outboxDue: 1, outboxAt: 1 });
