import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, SchemaTypes, Types } from 'mongoose';

/**
 * How many devices of an enterprise there are (`label` null) and how many carry each label
 * (docs/decisions.md §49). Kept by `$inc` where devices and labels change, so a profile write
 * counts its targets in a read per label named; FerretDB would decode every device to count them.
 */
@Schema({ collection: 'win_target_counts', versionKey: false })
export class TargetCountDoc {
  /** targetCountId(): `<winEnterpriseId>` for all devices, `<winEnterpriseId>:<label>` for a label. */
  @Prop({ type: String })
  _id!: string;

  @Prop({ required: true, type: SchemaTypes.ObjectId })
  winEnterpriseId!: Types.ObjectId;

  @Prop({ type: String, default: null })
  label!: string | null;

  @Prop({ type: Number, required: true, default: 0 })
  devices!: number;

  /** Incremented by every change: a recount writes a counter only if it did not move meanwhile. */
  @Prop({ type: Number, required: true, default: 0 })
  seq!: number;

  /**
   * On the all-devices counter: when the enterprise's counts were last made exact (its creation,
   * or a recount). Absent: never counted (an enterprise from before the counts), so readers count
   * the devices instead.
   */
  @Prop({ type: Date })
  countedAt?: Date;
}

export type TargetCountDocument = HydratedDocument<TargetCountDoc>;
export const TargetCountSchema = SchemaFactory.createForClass(TargetCountDoc);
// The recount reads an enterprise's counters.
TargetCountSchema.index({ winEnterpriseId: 1 });
