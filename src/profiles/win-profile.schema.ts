import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { SchemaTypes, Types } from 'mongoose';
import type { OnRemove, ProfileScope, ProfileSetting, ProfileTargets } from './profiles.types';

@Schema({ collection: 'win_profiles', timestamps: true, versionKey: false })
export class WinProfileDoc {
  _id!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) organizationId!: Types.ObjectId;
  @Prop({ required: true, type: SchemaTypes.ObjectId }) winEnterpriseId!: Types.ObjectId;
  @Prop({ type: String, required: true }) name!: string;
  /**
   * `name` while the profile lives, `deleted:<id>` once deleted: the unique index keeps names
   * unique among live profiles without a partial index (DESIGN.md portable subset).
   */
  @Prop({ type: String, required: true }) nameKey!: string;
  @Prop({ type: String, default: null }) description!: string | null;
  @Prop({ type: String, required: true }) scope!: ProfileScope;
  @Prop({ type: [Object], default: [] }) settings!: ProfileSetting[];
  /** Indexed copy of settings[].path: the conflict check finds profiles sharing a path. */
  @Prop({ type: [String], default: [] }) settingPaths!: string[];
  @Prop({ type: Boolean, default: false }) atomic!: boolean;
  @Prop({ type: String, required: true, default: 'delete' }) onRemove!: OnRemove;
  @Prop({ type: Object, required: true }) targets!: ProfileTargets;
  /** Indexed copy of targets.labels + targets.excludeLabels: a label change finds its profiles. */
  @Prop({ type: [String], default: [] }) targetLabels!: string[];
  @Prop({ type: Number, required: true, default: 1 }) revision!: number;
  /** See WinProfile.contentRevision. */
  @Prop({ type: Number, required: true, default: 1 }) contentRevision!: number;
  @Prop({ type: Date, default: null }) deletedAt!: Date | null;
  createdAt!: Date;
  updatedAt!: Date;
}
export const WinProfileSchema = SchemaFactory.createForClass(WinProfileDoc);
WinProfileSchema.index({ winEnterpriseId: 1, nameKey: 1 }, { unique: true });
// Every live-profile query binds deletedAt (null): the list in both orders, then the conflict and
// re-planning lookups by label and by path (the query-shape test holds them to these prefixes).
WinProfileSchema.index({ organizationId: 1, winEnterpriseId: 1, deletedAt: 1, createdAt: -1 });
WinProfileSchema.index({ organizationId: 1, winEnterpriseId: 1, deletedAt: 1, name: 1 });
WinProfileSchema.index({ winEnterpriseId: 1, deletedAt: 1, targetLabels: 1 });
WinProfileSchema.index({ winEnterpriseId: 1, deletedAt: 1, settingPaths: 1 });
WinProfileSchema.index({ deletedAt: 1 });
