import type { CommandFormat } from '../commands/commands.types';

export const PROFILE_SCOPES = ['device', 'user'] as const;
export type ProfileScope = (typeof PROFILE_SCOPES)[number];

export const SETTING_ACTIONS = ['Replace', 'Add'] as const;
export type SettingAction = (typeof SETTING_ACTIONS)[number];

/** What happens on a device the profile stops reaching (issue 11 "onRemove"). */
export const ON_REMOVE = ['delete', 'keep'] as const;
export type OnRemove = (typeof ON_REMOVE)[number];

export interface ProfileSetting {
  path: string;
  format: CommandFormat;
  value?: string;
  action: SettingAction;
  verify: boolean;
}

/**
 * Exactly one of the three shapes. `labels` reaches devices carrying any of them; `excludeLabels`
 * then removes devices carrying any of those (alone, it means "every device but").
 */
export type ProfileTargets =
  { all: true } | { labels?: string[]; excludeLabels?: string[] } | { deviceIds: string[] };

export interface WinProfile {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  name: string;
  description: string | null;
  scope: ProfileScope;
  settings: ProfileSetting[];
  atomic: boolean;
  onRemove: OnRemove;
  targets: ProfileTargets;
  /** Starts at 1; +1 on every update. */
  revision: number;
  /**
   * The last revision that changed what devices receive (settings, scope, atomic): a device at
   * an older revision needs delivery again; one at this or a later revision only follows the
   * revision number (a rename or a target change does not re-send the settings).
   */
  contentRevision: number;
  /** Set by DELETE: the profile no longer applies; the document goes once its devices are done. */
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const AssignmentState = {
  Pending: 'pending',
  Delivering: 'delivering',
  Verifying: 'verifying',
  Verified: 'verified',
  Failed: 'failed',
  Drifted: 'drifted',
  Removing: 'removing',
  Removed: 'removed',
} as const;
export type AssignmentState = (typeof AssignmentState)[keyof typeof AssignmentState];
export const ASSIGNMENT_STATES = Object.values(AssignmentState);
/** States in which the profile applies (or is being applied) to the device. */
export const APPLIED_STATES: AssignmentState[] = [
  AssignmentState.Pending,
  AssignmentState.Delivering,
  AssignmentState.Verifying,
  AssignmentState.Verified,
  AssignmentState.Failed,
  AssignmentState.Drifted,
];

/** Per-setting outcome, filled by reconciliation (profiles-reconcile). */
export interface SettingOutcome {
  path: string;
  state: string;
  statusCode?: string;
  deviceValue?: string;
  verified?: 'yes' | 'unreadable';
}

export interface WinProfileAssignment {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  profileId: string;
  winDeviceId: string;
  /** The desired revision of the profile. */
  revision: number;
  state: AssignmentState;
  settings: SettingOutcome[];
  stateChangedAt: Date;
  nextVerifyAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The two passes of a plan: reach the devices targeted now, then retire the ones no longer. */
export const PlanPhase = { Reach: 'reach', Prune: 'prune' } as const;
export type PlanPhase = (typeof PlanPhase)[keyof typeof PlanPhase];

/**
 * How a whole-profile plan partitions the enterprise (decisions.md §47): `enterprise`, one
 * partition (a small enterprise), `group` (PLAN_GROUPS partitions by `planGroup`) or `bucket`
 * (PLAN_BUCKETS by `planBucket`), chosen at the plan's first batch from the enterprise's size.
 */
export const PlanLevel = { Enterprise: 'enterprise', Group: 'group', Bucket: 'bucket' } as const;
export type PlanLevel = (typeof PlanLevel)[keyof typeof PlanLevel];

/** One partition of a walk: an equality on `planGroup` or `planBucket`; null: no partition. */
export type PlanSlice = { field: 'planGroup' | 'planBucket'; value: number } | null;

/**
 * A pending plan (`win_profile_plans`). A profile plan walks the enterprise's devices matching
 * the targets one partition at a time, by `_id` cursor inside it (reach: each gets the current
 * revision), then retires the assignments left at an older revision, again by partition
 * (prune); a device plan re-evaluates only the listed devices (a label change). Progress
 * (phase, level, part, cursor) is stored after each batch.
 */
export interface ProfilePlan {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  profileId: string;
  /** The profile revision the plan was made for; a newer one replaces the plan. */
  revision: number;
  /** null: the whole profile; otherwise only these devices (Mongo ids). */
  deviceIds: string[] | null;
  phase: PlanPhase;
  /** Last device `_id` handled in the reach phase (prune needs none: retired ones leave its set). */
  cursor: string | null;
  /** Null until the first batch of a whole-profile plan chooses it. */
  level: PlanLevel | null;
  /** The partition the walk is in (0 when level is `enterprise`). */
  part: number;
  /** Devices counted when the plan was stored (what the request answered). */
  total: number;
  processed: number;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
