import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OUTBOX_FIELDS } from '../common/mongo/outbox';
import { planFieldsOf } from './plan-bucket';
import { HydratedDocument, SchemaTypes, Types } from 'mongoose';
import type {
  DeviceCertificateInfo,
  DeviceEnrollmentInfo,
  DeviceInventory,
  DeviceRenewalInfo,
  DevicePushInfo,
  DeviceStatus,
} from './devices.types';

@Schema({ collection: 'win_devices', timestamps: true, versionKey: false })
export class WinDeviceDoc {
  _id!: Types.ObjectId;

  @Prop({ required: true, type: SchemaTypes.ObjectId })
  organizationId!: Types.ObjectId;

  @Prop({ required: true, type: SchemaTypes.ObjectId })
  winEnterpriseId!: Types.ObjectId;

  @Prop({ type: String, required: true })
  deviceId!: string;

  @Prop({ type: String })
  name?: string;

  @Prop({ type: SchemaTypes.ObjectId })
  mdmUserId?: Types.ObjectId;

  @Prop({ type: String, required: true, default: 'active' })
  status!: DeviceStatus;

  @Prop({ type: Object })
  certificate?: DeviceCertificateInfo;

  /** Indexed copy of certificate.thumbprint: the device endpoint looks devices up by it. */
  @Prop({ type: String, index: true })
  certificateThumbprint?: string;

  @Prop({ type: Object })
  renewal?: DeviceRenewalInfo;

  /**
   * Indexed copy of renewal.certificate.thumbprint: until the device uses its renewed certificate
   * both it and the current one open its sessions.
   */
  @Prop({ type: String, index: true })
  renewalThumbprint?: string;

  @Prop({ type: Object })
  inventory?: DeviceInventory;

  /** What the device said about itself when it enrolled (absent for admin-registered devices). */
  @Prop({ type: Object })
  enrollment?: DeviceEnrollmentInfo;

  @Prop({ type: Date })
  lastSeenAt?: Date;

  /** Administrator labels (≤ 50): profiles target devices by them (src/profiles). */
  @Prop({ type: [String], default: [] })
  labels?: string[];

  @Prop({ type: Object })
  push?: DevicePushInfo;

  @Prop({ type: Date })
  unenrollRequestedAt?: Date;

  @Prop({ type: Date })
  unenrollDeadline?: Date;

  @Prop({ type: Date })
  unenrolledAt?: Date;

  /**
   * The management-session state, opaque here: its shape belongs to syncml/ (session-state.ts).
   * It lives on the device document so that one read identifies the device by its certificate
   * and returns the session: an idle check-in costs that one read (decisions.md, idle fast path).
   */
  @Prop({ type: Object })
  syncml?: Record<string, unknown>;

  /** Per-device lock for SyncML message processing (one message per device at a time). */
  @Prop({ type: Date, default: null })
  lockedUntil?: Date | null;

  @Prop({ type: String, default: null })
  lockToken?: string | null;

  /**
   * Changes with every save of `syncml` (the saver's token): a message processed without the
   * lock saves only if no other message saved since it read the device.
   */
  @Prop({ type: String })
  savedBy?: string;

  /**
   * Queue marker: incremented before commands are written for the device, while queueWrites
   * counts the writes not yet settled. A check-in skips the queue query only when the marker is
   * the one it last found the queue empty at and no write is in flight.
   */
  @Prop({ type: Number, default: 0 })
  queueSeq?: number;

  @Prop({ type: Number, default: 0 })
  queueWrites?: number;

  /** The profile planner's partitions, derived from `_id` (plan-bucket.ts). */
  @Prop({ type: Number })
  planBucket?: number;

  @Prop({ type: Number })
  planGroup?: number;

  createdAt!: Date;
  updatedAt!: Date;
}

export type WinDeviceDocument = HydratedDocument<WinDeviceDoc>;

export const WinDeviceSchema = SchemaFactory.createForClass(WinDeviceDoc);
WinDeviceSchema.index({ winEnterpriseId: 1, deviceId: 1 }, { unique: true });
WinDeviceSchema.index({ organizationId: 1, createdAt: -1 });
// A device by its Windows device id inside an organization (the REST paths accept either id);
// it replaces a single-key organizationId index, which {organizationId, createdAt} also serves.
WinDeviceSchema.index({ organizationId: 1, deviceId: 1 });
// Profile targeting: the devices of an enterprise carrying a label, walked by _id.
WinDeviceSchema.index({ winEnterpriseId: 1, labels: 1, _id: 1 });
// Profile targeting `{all: true}`: the enterprise's devices walked by _id.
WinDeviceSchema.index({ winEnterpriseId: 1, _id: 1 });
// The profile planner's pages: one partition of the enterprise by equality (plan-bucket.ts),
// sorted by _id in memory (a partition holds about two batches). No `_id` key: the partition is
// the equality FerretDB pushes down (its GIN twin, store/pushdown-indexes.ts, serves it), and the
// sort stays in memory on either store.
WinDeviceSchema.index({ winEnterpriseId: 1, planGroup: 1 });
WinDeviceSchema.index({ winEnterpriseId: 1, planBucket: 1 });
// Every device gets its partition when it is created (whatever path creates it).
WinDeviceSchema.pre('save', function () {
  if (this.isNew && this.planBucket === undefined)
    Object.assign(this, planFieldsOf(this._id.toHexString()));
});
// Webhook events recorded with the change that causes them (common/mongo/outbox.ts).
WinDeviceSchema.add(OUTBOX_FIELDS);
WinDeviceSchema.index({ outboxDue: 1, outboxAt: 1 });
