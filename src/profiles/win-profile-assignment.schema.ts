import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';
import type { AssignmentState, SettingOutcome } from './profiles.types';
import type { ReconcileStep } from './reconcile-outcome';

/** One document per (device, profile): the desired revision and how far the device is. */
@Schema({ collection: 'win_profile_assignments', timestamps: true, versionKey: false })
export class WinProfileAssignmentDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winEnterpriseId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) profileId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winDeviceId!: Types.ObjectId;
  /** The desired revision of the profile. */
  @Prop({ type: Number, required: true }) revision!: number;
  @Prop({ type: String, required: true }) state!: AssignmentState;
  @Prop({ type: [Object], default: [] }) settings!: SettingOutcome[];
  @Prop({ type: Date, required: true }) stateChangedAt!: Date;
  @Prop({ type: Date, default: null }) nextVerifyAt!: Date | null;
  /** The command batch whose outcome reconciliation awaits, and what it was for. */
  @Prop({ type: SchemaTypes.ObjectId, default: null }) batchId?: Types.ObjectId | null;
  @Prop({ type: String, default: null }) step?: ReconcileStep | null;
  /**
   * When reconciliation looks at it next: a claim moves it ahead (a lease: another instance
   * skips it until then, a crashed one's claim simply runs out), an open batch is swept then.
   */
  @Prop({ type: Date, default: null }) reconcileAt?: Date | null;
  /** The device's planning partitions (devices/plan-bucket.ts): the planner's pages by equality. */
  @Prop({ type: Number }) planBucket?: number;
  @Prop({ type: Number }) planGroup?: number;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WinProfileAssignmentSchema = SchemaFactory.createForClass(WinProfileAssignmentDoc);
WinProfileAssignmentSchema.index({ winDeviceId: 1, profileId: 1 }, { unique: true });
// The profile's status counts and device list; the planner's prune pass (by winDeviceId).
WinProfileAssignmentSchema.index({ profileId: 1, state: 1, winDeviceId: 1 });
WinProfileAssignmentSchema.index({ profileId: 1, winDeviceId: 1 });
// The planner's pages of one partition of the profile's assignments (decisions.md §47).
WinProfileAssignmentSchema.index({ profileId: 1, planGroup: 1, state: 1 });
WinProfileAssignmentSchema.index({ profileId: 1, planBucket: 1, state: 1 });
// Reconciliation: a device's work at check-in.
WinProfileAssignmentSchema.index({ winDeviceId: 1, state: 1 });
// Due drift checks, one planning bucket at a time (decisions.md §53): FerretDB's GIN twin
// answers the bucket and state equalities, MongoDB the due range as well.
WinProfileAssignmentSchema.index({ planBucket: 1, state: 1, nextVerifyAt: 1 });
// Reconciliation's bounded batches: pending assignments to deliver, open batches to sweep, one
// state at a time; verified ones only while a drift check is open (step `check`), so the
// steady state's verified assignments are not read by the sweep on either store.
WinProfileAssignmentSchema.index({ state: 1, reconcileAt: 1 });
WinProfileAssignmentSchema.index({ state: 1, step: 1, reconcileAt: 1 });
