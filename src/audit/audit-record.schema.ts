import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';

/**
 * One administrative write (docs/decisions.md "Audit trail"). Append-only and kept forever for
 * now: the portable subset has no TTL index, and a retention job is future work.
 */
@Schema({ collection: 'audit_records', versionKey: false, minimize: false })
export class AuditRecordDoc {
  _id!: Types.ObjectId;
  @Prop({ type: SchemaTypes.ObjectId, default: null }) organizationId!: Types.ObjectId | null;
  @Prop({ type: String, required: true }) actor!: string;
  @Prop({ type: String, required: true }) method!: string;
  @Prop({ type: String, required: true }) route!: string;
  @Prop({ type: Object, default: {} }) params!: Record<string, string>;
  @Prop({ type: [String], default: [] }) targetIds!: string[];
  @Prop({ type: String, default: null }) entityId!: string | null;
  @Prop({ type: Object, default: {} }) summary!: Record<string, number>;
  @Prop({ type: String, required: true }) outcome!: 'success' | 'failure';
  @Prop({ type: Number, required: true }) status!: number;
  @Prop({ type: Number, default: null }) errorCode!: number | null;
  @Prop({ type: String, default: null }) requestId!: string | null;
  @Prop({ type: Date, required: true }) at!: Date;
}
export const AuditRecordSchema = SchemaFactory.createForClass(AuditRecordDoc);
AuditRecordSchema.index({ organizationId: 1, at: -1 });
AuditRecordSchema.index({ organizationId: 1, actor: 1, at: -1 });
AuditRecordSchema.index({ organizationId: 1, targetIds: 1, at: -1 });
