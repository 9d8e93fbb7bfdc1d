import type { DeviceInventory, WinDevice } from './devices.types';

declare const opaque: unique symbol;

/**
 * The management-session state stored on the device document (`win_devices.syncml`). Its shape
 * belongs to syncml/ (session-state.ts); the devices module only keeps it next to the lock, so
 * one conditional update finds the device by certificate, locks it and returns the session.
 */
export type StoredSession = { readonly [opaque]: 'StoredSession' };

export interface CheckinContext {
  device: WinDevice;
  session: StoredSession | null;
  /**
   * The device's queue marker when no command write is in flight (see DeviceCheckinService
   * appendToQueue), else null: a check-in may skip the queue query only while it is unchanged.
   */
  queueMark: number | null;
  lockToken: string;
  /**
   * The previous holder never released the lock (it crashed, or outlived SYNCML_LOCK_MS): what it
   * sent may be Awaiting without being in the saved session.
   */
  staleLock: boolean;
}

/**
 * The device as one read without its lock found it (the idle fast path, decisions.md): only a
 * device no message holds, with its current certificate, active or inactive.
 */
export interface CheckinSnapshot {
  device: WinDevice;
  session: StoredSession | null;
  /** As CheckinContext.queueMark. */
  queueMark: number | null;
  /** The token of the session's last save (null: never saved): the commit's condition. */
  savedBy: string | null;
}

export type AcquireResult =
  | { kind: 'ok'; ctx: CheckinContext }
  | { kind: 'unknown' }
  | { kind: 'unenrolled' }
  | { kind: 'busy' };

export type CheckinResult = AcquireResult | { kind: 'untrusted'; reason: string };

export interface CheckinPatch {
  session: StoredSession;
  inventory?: DeviceInventory;
  lastSeenAt?: Date;
  /** What the device reported of its WNS channel in this message. */
  push?: PushPatch;
}

/** Set field by field, so a concurrent forgetChannel stays; `channelUri: null` drops it. */
export interface PushPatch {
  channelUri?: string | null;
  status?: string;
  readAt: Date;
}
