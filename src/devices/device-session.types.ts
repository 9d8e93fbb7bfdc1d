import type { DeviceInventory, WinDevice } from './devices.types';

/** What the management endpoint keeps per device between messages (DESIGN: syncml session). */
export interface SyncmlSessionState {
  /** The device's SessionID (opaque, repeats over time). */
  sessionId: string;
  /** Unique per session: SessionID plus the start time (SessionIDs wrap). */
  sessionRef: string;
  startedAt: Date;
  /** MsgID of the last processed device message. */
  lastMsgId: string;
  /** The server's own MsgID counter in this session. */
  serverMsgId: number;
  /** SHA-256 of the last processed request body, for replay detection. */
  lastRequestHash: string;
  /** The exact bytes answered to that request (UTF-8 text). */
  lastResponse: string;
  /**
   * Commands this session sent that have no final Status yet: cmdId → verb (only a final Status
   * for one of them, of that verb, counts as an answer).
   */
  awaiting?: Record<string, string>;
  /** queueSeq observed when the queue was last found empty (-1: unknown). */
  drainedSeq: number;
  /** Whether that empty queue included ./User/… commands (false: they were held back). */
  drainedUserScope?: boolean;
  /** The device's MaxMsgSize (bytes) from its SyncHdr Meta. */
  maxMsgSize?: number;
  /** LoginStatus from Alert 1224 (user | others | none). */
  loginStatus?: string;
}

export interface CheckinContext {
  device: WinDevice;
  session: SyncmlSessionState | null;
  queueSeq: number;
  lockToken: string;
  /**
   * The previous holder never released the lock (it crashed, or outlived SYNCML_LOCK_MS): what it
   * sent may be Awaiting without being in the saved session.
   */
  staleLock: boolean;
}

export type AcquireResult =
  | { kind: 'ok'; ctx: CheckinContext }
  | { kind: 'unknown' }
  | { kind: 'unenrolled' }
  | { kind: 'busy' };

export interface CheckinPatch {
  session: SyncmlSessionState;
  inventory?: DeviceInventory;
  lastSeenAt?: Date;
}
