import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';

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
