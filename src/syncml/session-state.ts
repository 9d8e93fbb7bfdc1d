import type { DeviceStatusReport } from '../commands/command-delivery.service';
import { isInterimCode, NON_FINAL_CODES } from '../commands/command-status';
import type { StoredSession } from '../devices/device-checkin.types';
import type { DeviceInventory } from '../devices/devices.types';
import {
  SYNCHDR_CMD,
  SYNCHDR_CMD_REF,
  SyncmlStatus,
  type SyncmlHeader,
  type SyncmlStatusCommand,
} from './codec';
import { MAX_DETAILS, type DeviceMessageDigest } from './device-message';

/**
 * What the management endpoint keeps per device between messages (management-session.md §3.5):
 * stored, opaque to the devices module, in `win_devices.syncml`.
 */
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
  /**
   * Commands answered 101, or Execs answered 202 (cmdId → verb): their outcome comes later, in
   * any session; until they end, each session start checks them for expiry.
   */
  interim?: Record<string, string>;
  /**
   * Cache: the device's queue marker when its queue was last found empty (-1: unknown); while the
   * marker is unchanged a check-in skips the queue query.
   */
  drainedSeq: number;
  /** Whether that empty queue included ./User/… commands (false: they were held back). */
  drainedUserScope?: boolean;
  /** The device's MaxMsgSize (bytes) from its SyncHdr Meta. */
  maxMsgSize?: number;
  /** LoginStatus from Alert 1224 (user | others | none). */
  loginStatus?: string;
  /**
   * Whether this session's answers already carried the server's own commands (channel Get,
   * Unenroll Exec): they go once, in the first answer that is not a request for the device's
   * next message. Sessions stored before this field: treated as sent.
   */
  serverCommandsSent?: boolean;
  /** The device's MaxObjSize (bytes) from its SyncHdr Meta: no value we send may exceed it. */
  maxObjSize?: number;
  /**
   * A large object under way (OMA-DM 1.2 §7, management-session.md §3.8): the command whose value
   * this session is sending in chunks, and how much of the value (UTF-16 units, always on a code
   * point boundary) went already. Never carried into another session: one that ends mid-object
   * puts the command back to Pending and redelivery starts over.
   */
  chunk?: ChunkProgress;
}

export interface ChunkProgress {
  cmdId: string;
  offset: number;
}

/** The session as the devices module stores it; anything else stored there is no session. */
export function sessionOf(stored: StoredSession | null): SyncmlSessionState | null {
  const s = stored as unknown as SyncmlSessionState | null;
  return s && typeof s.sessionId === 'string' ? s : null;
}

export function toStored(session: SyncmlSessionState): StoredSession {
  return session as unknown as StoredSession;
}

/** How a device message relates to the stored session (management-session.md §3.5, §6). */
export type MessagePlace = 'replay' | 'new-session' | 'next' | 'late';

export function placeMessage(
  prev: SyncmlSessionState | null,
  hdr: SyncmlHeader,
  requestHash: string,
  sessionStart: boolean,
): MessagePlace {
  if (!prev) return 'new-session';
  if (
    prev.sessionId === hdr.sessionId &&
    prev.lastMsgId === hdr.msgId &&
    prev.lastRequestHash === requestHash
  ) {
    return 'replay';
  }
  // SessionIDs wrap: MsgID 1 with a session-start alert is a new session even with an old id.
  if (prev.sessionId !== hdr.sessionId || (sessionStart && hdr.msgId === '1')) return 'new-session';
  // A MsgID below the last one is a late duplicate we no longer have the answer for. The same
  // MsgID with another body is processed like a new message: its transitions are idempotent.
  return Number(hdr.msgId) < Number(prev.lastMsgId) ? 'late' : 'next';
}

export function startSession(
  prev: SyncmlSessionState | null,
  hdr: SyncmlHeader,
  requestHash: string,
  now: Date,
): SyncmlSessionState {
  return {
    sessionId: hdr.sessionId,
    sessionRef: `${hdr.sessionId}@${now.toISOString()}`,
    startedAt: now,
    lastMsgId: hdr.msgId,
    serverMsgId: 0,
    lastRequestHash: requestHash,
    lastResponse: '',
    awaiting: {},
    serverCommandsSent: false,
    drainedSeq: prev?.drainedSeq ?? -1,
    drainedUserScope: prev?.drainedUserScope,
    maxMsgSize: prev?.maxMsgSize,
    ...(prev?.maxObjSize !== undefined && { maxObjSize: prev.maxObjSize }),
    loginStatus: prev?.loginStatus,
    ...(prev?.interim && Object.keys(prev.interim).length && { interim: prev.interim }),
  };
}

/** Whether the previous session left commands it sent without a final Status. */
export function hasUnanswered(session: SyncmlSessionState | null): boolean {
  return !!session && Object.keys(session.awaiting ?? {}).length > 0;
}

/** Folds what the message says about the session into it (LoginStatus, MaxMsgSize). */
export function noteHeader(
  session: SyncmlSessionState,
  hdr: SyncmlHeader,
  d: DeviceMessageDigest,
): void {
  if (d.loginStatus) session.loginStatus = d.loginStatus;
  const maxMsgSize = Number(hdr.meta?.maxMsgSize);
  // MS-MDM 2.2.5.3: the device's limit for our messages (Win 8.1/10 1507 send none).
  if (Number.isInteger(maxMsgSize) && maxMsgSize > 0) session.maxMsgSize = maxMsgSize;
  // OMA-DM 1.2 §7: the largest object the device accepts (OMA: for the session unless re-sent).
  const maxObjSize = Number(hdr.meta?.maxObjSize);
  if (Number.isInteger(maxObjSize) && maxObjSize > 0) session.maxObjSize = maxObjSize;
}

/**
 * Only final Statuses for commands this session sent, of the verb sent, count as answers: one for
 * an unknown, earlier or already answered command must not hide an unanswered command from the
 * requeue at the next session start. 101 and 213 are not final; 101 and Exec 202 move to `interim`.
 */
export function noteAnswers(session: SyncmlSessionState, reports: DeviceStatusReport[]): void {
  const awaiting = (session.awaiting ??= {});
  for (const r of reports) {
    const verb = awaiting[r.cmdRef];
    if (verb === undefined || (r.cmd && r.cmd !== verb)) continue;
    if (isInterimCode(r.code, verb)) {
      // Not resent, not requeued: it waits for its outcome (or expiry) beyond this session.
      session.interim = { ...session.interim, [r.cmdRef]: verb };
      delete awaiting[r.cmdRef];
      continue;
    }
    if (NON_FINAL_CODES.has(r.code)) continue;
    delete awaiting[r.cmdRef];
  }
}

/**
 * Interim answers the store applied to commands another session sent (the device answered 101 or
 * 202 only in a later session, where `awaiting` no longer names them): tracked like this
 * session's, so a session start checks them for expiry. `applied`: the cmdIds the store moved.
 */
export function noteStoredInterim(
  session: SyncmlSessionState,
  reports: DeviceStatusReport[],
  applied: readonly string[],
): void {
  const moved = new Set(applied);
  for (const r of reports) {
    if (!moved.has(r.cmdRef) || session.interim?.[r.cmdRef] !== undefined) continue;
    // The store matched the verb; a Status without Cmd may answer an Exec, and tracking it at
    // worst costs one expiry check.
    const verb = r.cmd ?? 'Exec';
    if (isInterimCode(r.code, verb)) session.interim = { ...session.interim, [r.cmdRef]: verb };
  }
}

/** MS-MDM 2.2.6.1: the server's first Status answers the device's SyncHdr (CmdRef 0). */
export function syncHdrStatus(msgRef: string): SyncmlStatusCommand {
  return {
    kind: 'Status',
    cmdId: '1',
    msgRef,
    cmdRef: SYNCHDR_CMD_REF,
    cmd: SYNCHDR_CMD,
    targetRef: [],
    sourceRef: [],
    data: SyncmlStatus.Ok,
    items: [],
  };
}

/** The inventory after this message, or undefined when nothing changed. */
export function mergeInventory(
  current: DeviceInventory | undefined,
  d: DeviceMessageDigest,
): DeviceInventory | undefined {
  const inv = d.inventory;
  if (!Object.keys(inv).length) return undefined;
  // New DevDetail keys stop at MAX_DETAILS in all: known ones still update.
  const details = { ...current?.details };
  for (const [k, v] of Object.entries(inv.details ?? {})) {
    if (k in details || Object.keys(details).length < MAX_DETAILS) details[k] = v;
  }
  const merged: DeviceInventory = { ...current, ...inv, details };
  if (!merged.details || !Object.keys(merged.details).length) delete merged.details;
  return JSON.stringify(merged) === JSON.stringify(current ?? {}) ? undefined : merged;
}
