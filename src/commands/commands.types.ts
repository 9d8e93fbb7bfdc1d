export const COMMAND_ACTIONS = ['Add', 'Copy', 'Delete', 'Exec', 'Get', 'Replace'] as const;
export type CommandAction = (typeof COMMAND_ACTIONS)[number];

export const COMMAND_FORMATS = [
  'b64',
  'bin',
  'bool',
  'chr',
  'int',
  'node',
  'null',
  'xml',
  'date',
  'time',
  'float',
] as const;
export type CommandFormat = (typeof COMMAND_FORMATS)[number];

export interface CommandConfig {
  path: string;
  action: CommandAction;
  value?: string;
  format: CommandFormat;
}

/** One Results item the device returned for a Get. */
export interface CommandDataItem {
  path: string;
  format?: string;
  type?: string;
  value?: string;
}

/**
 * What queued a command other than a REST client: another module's reference (a profile and its
 * revision). Opaque to the commands module, which stores and shows it, and hands it back to
 * outcome listeners.
 */
export interface CommandOrigin {
  kind: string;
  id: string;
  revision?: number;
}

export interface WinCommand {
  id: string;
  cmdId: string;
  batchId: string;
  organizationId: string;
  winDeviceId: string;
  position: number;
  config: CommandConfig;
  status: string;
  statusCode: string | null;
  data: CommandDataItem[];
  attempts: number;
  /**
   * The command belongs to an atomic batch: delivered with the rest of its batch inside one
   * SyncML Atomic (MS-MDM 2.2.7.3), all or nothing.
   */
  atomic?: boolean;
  sentAt: Date | null;
  receivedAt: Date | null;
  canceledAt: Date | null;
  origin?: CommandOrigin;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The device action a batch was compiled from (src/device-actions): its name and the parameters
 * that say what it does (never secrets).
 */
export interface BatchAction {
  name: string;
  params?: Record<string, string>;
}

export interface CommandBatch {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  winDeviceId: string;
  mdmUserId: string | null;
  name: string | null;
  createdBy: string;
  commandCount: number;
  /** Set when the batch was queued by POST …/actions. */
  action?: BatchAction;
  /** Set when another module queued the batch (enqueueInternal). */
  origin?: CommandOrigin;
  /** Its commands go inside one SyncML Atomic (MS-MDM 2.2.7.3). */
  atomic?: boolean;
  /** Its status counts, once every command is final (decisions.md §46); never shown as such. */
  finalSummary?: StatusCount[];
  /** Bumped by each thinning of the history retention; `finalSummary` is written under it. */
  summaryEpoch?: number;
  createdAt: Date;
  updatedAt: Date;
}

/** Counts found final and complete, with the `summaryEpoch` of the batch as read before them. */
export interface SettledSummary {
  id: string;
  summary: StatusCount[];
  epoch: number | undefined;
}

export interface StatusCount {
  status: string;
  count: number;
}
