import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OUTBOX_FIELDS } from '../common/mongo/outbox';
import { SchemaTypes, Types } from 'mongoose';
import type { CommandConfig, CommandDataItem, CommandOrigin } from './commands.types';

@Schema({ collection: 'win_commands', timestamps: true, versionKey: false })
export class WinCommandDoc {
  _id!: Types.ObjectId;
  @Prop({ type: String, required: true, unique: true }) cmdId!: string;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) batchId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winDeviceId!: Types.ObjectId;
  /** The batch's creation time: delivery is FIFO by (queuedAt, batchId, position). */
  @Prop({ type: Date, required: true }) queuedAt!: Date;
  @Prop({ type: Number, required: true }) position!: number;
  @Prop({ required: true, type: Object }) config!: CommandConfig;
  @Prop({ type: String, required: true }) status!: string;
  @Prop({ type: String, default: null }) statusCode!: string | null;
  @Prop({ type: [Object], default: [] }) data!: CommandDataItem[];
  @Prop({ type: Number, required: true, default: 0 }) attempts!: number;
  /** Copied from its batch: delivery groups the batch's commands in one Atomic. */
  @Prop({ type: Boolean, default: undefined }) atomic?: boolean;
  @Prop({ type: Date, default: null }) sentAt!: Date | null;
  @Prop({ type: Date, default: null }) receivedAt!: Date | null;
  @Prop({ type: Date, default: null }) canceledAt!: Date | null;
  /** The device session (`syncml_sessions` key + start) that carried the last delivery. */
  @Prop({ type: String, default: null }) sessionRef!: string | null;
  /** Set by each conditional delivery update: reading it back tells which documents it moved. */
  @Prop({ type: String }) opToken?: string;
  /** The module and revision that queued it (enqueueInternal); absent for REST batches. */
  @Prop({ type: Object, default: undefined }) origin?: CommandOrigin;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WinCommandSchema = SchemaFactory.createForClass(WinCommandDoc);
WinCommandSchema.index({ winDeviceId: 1, status: 1, queuedAt: 1, batchId: 1, position: 1 });
WinCommandSchema.index({ batchId: 1, position: 1 });
// The history retention sweep (command-retention.job.ts): finished commands by when they finished
// (a final Status, expiry or failure sets receivedAt; a cancel sets canceledAt).
WinCommandSchema.index({ receivedAt: 1 });
WinCommandSchema.index({ canceledAt: 1 });
// Webhook events recorded with the change that causes them (common/mongo/outbox.ts).
WinCommandSchema.add(OUTBOX_FIELDS);
WinCommandSchema.index({ outboxDue: 1, outboxAt: 1 });
