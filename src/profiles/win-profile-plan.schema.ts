import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';
import type { PlanLevel, PlanPhase } from './profiles.types';

/** A plan not yet finished; removed when it completes (see ProfilePlan in profiles.types). */
@Schema({ collection: 'win_profile_plans', timestamps: true, versionKey: false })
export class WinProfilePlanDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winEnterpriseId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) profileId!: Types.ObjectId;
  @Prop({ type: Number, required: true }) revision!: number;
  /**
   * `profile` for the one whole-profile plan of a profile (a newer revision resets it),
   * `devices:<id>` for device plans: the unique key keeps one whole-profile plan per profile.
   */
  @Prop({ type: String, required: true }) key!: string;
  @Prop({ type: [SchemaTypes.ObjectId], default: null }) deviceIds!: Types.ObjectId[] | null;
  @Prop({ type: String, required: true }) phase!: PlanPhase;
  @Prop({ type: String, default: null }) cursor!: string | null;
  /** How the whole-profile walk partitions the enterprise (null: not chosen yet). */
  @Prop({ type: String, default: null }) level!: PlanLevel | null;
  /** The partition (planGroup or planBucket value) the walk is in; `cursor` is inside it. */
  @Prop({ type: Number, default: 0 }) part!: number;
  @Prop({ type: Number, default: 0 }) total!: number;
  @Prop({ type: Number, default: 0 }) processed!: number;
  @Prop({ type: String, default: null }) leaseOwner!: string | null;
  @Prop({ type: Date, default: null }) leaseUntil!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WinProfilePlanSchema = SchemaFactory.createForClass(WinProfilePlanDoc);
WinProfilePlanSchema.index({ profileId: 1, key: 1 }, { unique: true });
WinProfilePlanSchema.index({ leaseUntil: 1, createdAt: 1 });
