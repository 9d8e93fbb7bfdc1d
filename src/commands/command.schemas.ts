import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';
import type { CommandConfig, CommandDataItem } from './commands.types';

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
  createdAt!: Date;
  updatedAt!: Date;
}
export const WinCommandBatchSchema = SchemaFactory.createForClass(WinCommandBatchDoc);
WinCommandBatchSchema.index({ winDeviceId: 1, createdAt: -1 });

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
  @Prop({ type: Date, default: null }) sentAt!: Date | null;
  @Prop({ type: Date, default: null }) receivedAt!: Date | null;
  @Prop({ type: Date, default: null }) canceledAt!: Date | null;
  /** The device session (`syncml_sessions` key + start) that carried the last delivery. */
  @Prop({ type: String, default: null }) sessionRef!: string | null;
  /** Set by each conditional delivery update: reading it back tells which documents it moved. */
  @Prop({ type: String }) opToken?: string;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WinCommandSchema = SchemaFactory.createForClass(WinCommandDoc);
WinCommandSchema.index({ winDeviceId: 1, status: 1, queuedAt: 1, batchId: 1, position: 1 });
WinCommandSchema.index({ batchId: 1, position: 1 });

/**
 * Idempotency-Key records live in their own collection keyed by `_id`, because a unique index
 * on an optional batch field would need a partial or sparse index (outside the portable subset).
 */
@Schema({ collection: 'idempotency_keys', versionKey: false })
export class IdempotencyKeyDoc {
  @Prop({ type: String }) _id!: string;
  @Prop({ type: String, required: true }) requestHash!: string;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) batchId!: Types.ObjectId;
  @Prop({ type: Date, required: true }) createdAt!: Date;
}
export const IdempotencyKeySchema = SchemaFactory.createForClass(IdempotencyKeyDoc);
