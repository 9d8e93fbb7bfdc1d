/**
 * Query shapes the server may issue without a declared index prefix, each with its reason: rare
 * or administrator-only reads whose index would cost every write more than the read saves. Keys
 * are `shapeKey` lines exactly as the check prints them.
 */

// The administrator's device list (GET …/enterprise/devices, devices.service.ts list), paged,
// and its count. It filters by organization and enterprise; an organization has exactly one
// enterprise, never replaced, so the {organizationId, createdAt} prefix reads exactly the
// enterprise's devices, and a sort by name or device id sorts one organization's devices.
const DEVICE_LIST =
  'admin device list: winEnterpriseId is implied by organizationId (one enterprise per organization)';

// The poll-schedule fan-out (devices.service.ts managedDevices): one administrator change walks
// the enterprise's devices once, by _id pages.
const POLL_FANOUT = 'poll-schedule fan-out: one pass per administrator change, by _id pages';

// One batch's commands by their status (cancel's conditional Pending → Cancel; the actions list
// filtered by status): the {batchId, position} prefix reads one batch, at most
// COMMANDS_MAX_PER_BATCH commands, and status is applied to those. An index by batch and status
// would cost every status change a write for reads bounded already.
const ONE_BATCH = 'bounded by one batch (COMMANDS_MAX_PER_BATCH commands) via {batchId, position}';

// A replayed session-start answer takes its commands still Pending (decisions.md §40), only on
// replays: the {winDeviceId, status} prefix reads the device's Pending queue, not its history.
const REPLAY_RETAKE = "replay of a session's first answer: bounded by the device's Pending queue";

// Outbox records written before `outboxDue` existed get it once per process (the relay's
// adoptLegacy, decisions.md §43): one pass at start, not a per-poll read.
const OUTBOX_LEGACY = 'once per process: outbox records from before outboxDue get the flag';

// The profile planner's pages (decisions.md §47): the {winEnterpriseId, planGroup} and
// {profileId, planGroup, state} prefixes read one planning partition, about two batches; the
// labels, `_id` cursor and device ids are applied to those. Their indexes carry no more keys:
// FerretDB pushes down only the equalities, and multikey `labels` would only widen them.
const PLAN_PARTITION =
  'bounded by one planning partition via {winEnterpriseId|profileId, planGroup}';

// The planning partition backfill (profiles/plan-partition-backfill.ts, decisions.md §51): one
// streamed read of each collection per start until it finishes, then never again (a mark read by
// `_id`). An index on a field that is missing only from legacy documents would serve one pass.
const PLAN_BACKFILL = 'once until finished: legacy documents without planning partition fields';

export const QUERY_SHAPE_ALLOWED: Record<string, string> = {
  'win_devices find {_id:range,labels:in,planGroup:eq,winEnterpriseId:eq}': PLAN_PARTITION,
  'win_devices find {labels:in,planGroup:eq,winEnterpriseId:eq}': PLAN_PARTITION,
  'win_profile_assignments find {planGroup:eq,profileId:eq,winDeviceId:in}': PLAN_PARTITION,
  'win_devices find {_id:range,labels:in,planBucket:eq,winEnterpriseId:eq}': PLAN_PARTITION,
  'win_devices find {labels:in,planBucket:eq,winEnterpriseId:eq}': PLAN_PARTITION,
  'win_profile_assignments find {planBucket:eq,profileId:eq,winDeviceId:in}': PLAN_PARTITION,
  'win_profile_assignments update {planGroup:eq,profileId:eq,revision:range,state:in,winDeviceId:in}':
    PLAN_PARTITION,
  'win_profile_assignments update {planBucket:eq,profileId:eq,revision:range,state:in,winDeviceId:in}':
    PLAN_PARTITION,
  'win_devices find {planBucket:other}': PLAN_BACKFILL,
  'win_profile_assignments find {planBucket:other}': PLAN_BACKFILL,
  'win_commands update {outboxAt:other,outboxDue:other}': OUTBOX_LEGACY,
  'win_command_batches update {outboxAt:other,outboxDue:other}': OUTBOX_LEGACY,
  'win_devices update {outboxAt:other,outboxDue:other}': OUTBOX_LEGACY,
  'win_commands update {cmdId:in,status:eq,winDeviceId:eq}': REPLAY_RETAKE,
  'win_commands update {batchId:eq,organizationId:eq,status:eq}': ONE_BATCH,
  'win_commands update {batchId:eq,organizationId:eq,position:in,status:eq}': ONE_BATCH,
  'win_commands aggregate {batchId:eq,organizationId:eq,status:in}': ONE_BATCH,
  'win_commands find {batchId:eq,organizationId:eq,status:in} sort position,_id': ONE_BATCH,
  'win_devices aggregate {organizationId:eq,winEnterpriseId:eq}': DEVICE_LIST,
  'win_devices aggregate {organizationId:eq,status:eq,winEnterpriseId:eq}': DEVICE_LIST,
  'win_devices find {organizationId:eq,winEnterpriseId:eq} sort -createdAt,-_id': DEVICE_LIST,
  'win_devices find {organizationId:eq,winEnterpriseId:eq} sort createdAt,_id': DEVICE_LIST,
  'win_devices find {organizationId:eq,winEnterpriseId:eq} sort deviceId,_id': DEVICE_LIST,
  'win_devices find {organizationId:eq,winEnterpriseId:eq} sort name,_id': DEVICE_LIST,
  'win_devices find {organizationId:eq,status:eq,winEnterpriseId:eq} sort -createdAt,-_id':
    DEVICE_LIST,
  'win_devices find {organizationId:eq,status:in,winEnterpriseId:eq} sort _id': POLL_FANOUT,
};
