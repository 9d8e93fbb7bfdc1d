import type { SyncmlItem } from '../../src/syncml/codec';

/** A leaf value the simulated device holds (management-session.md §5.1). */
export interface NodeValue {
  data: string;
  /** Meta Format of the Results item; `chr` when absent. */
  format?: string;
  /** Meta Type of the Results item; `text/plain` when absent. */
  type?: string;
}

/** ./DevInfo values sent in package 1 (management-session.md §3.2). */
export interface DevInfo {
  man: string;
  mod: string;
  /** `1.3` on Windows. */
  dmV: string;
  lang: string;
}

/** How the device answers server commands (management-session.md §3.10). */
export interface DeviceBehaviour {
  /** Leaf nodes a Get can read. Replaces the Windows-like defaults (`windowsDefaultValues`). */
  values?: Record<string, string | NodeValue>;
  /** Code for a Get on a node that does not exist (default `404`). */
  unknownStatus?: string;
  /** Add/Replace/Delete/Exec on these paths or below them → 405 (Get stays allowed). */
  readOnlyPaths?: readonly string[];
  /** Interior nodes that already exist: Add → 418, Get → the child list. */
  existingNodes?: readonly string[];
  /** Exact path → code returned for any command on it (takes precedence over everything). */
  failPaths?: Record<string, string>;
  /**
   * Exact paths that accept writes but answer a Get with 404 even once set, like Policy CSP nodes
   * Windows does not read back (issue 11: reported as "unreadable", not as a failure).
   */
  unreadablePaths?: readonly string[];
  /** Code for a successful Exec (default `200`; `202` = accepted, completes later). */
  execStatus?: string;
  /**
   * Data of the install-result alert that follows an MSI DownloadInstall Exec (an HRESULT;
   * default `0`, success). Such an Exec is answered 202 whatever `execStatus` says.
   */
  msiInstallResult?: string;
}

/** An Alert the device adds to package 1, after its 1201/1224 alerts (§3.2, §3.6). */
export interface ExtraAlert {
  code: string;
  items: SyncmlItem[];
}

/** What changes from one session to the next; given to the constructor or to runSession(). */
export interface SessionOptions {
  /** SyncHdr SessionID (opaque, ≤ 4 bytes, §3.5). Default: a per-device decimal counter. */
  sessionId?: string;
  /** Session-type alert: 1201 (client-initiated, default) or 1200 (§3.2). */
  sessionAlert?: '1200' | '1201';
  /** LoginStatus 1224 alert data: `user` (default), `others` or `none` (§3.2). */
  loginStatus?: string;
  /** After receiving server message n (1-based), send Alert 1223 instead of answering it. */
  abortAfterMessages?: number;
  /** With abortAfterMessages: also put the Statuses/Results it has in the 1223 message (§6). */
  abortWithStatuses?: boolean;
  /** After receiving server message n, stop silently (lost session); nothing is applied. */
  dropAnswerForMessage?: number;
  /** Alerts added to package 1, e.g. `unenrollmentAlert()`. */
  extraAlerts?: readonly ExtraAlert[];
  /** SyncHdr Source other than the deviceId (the server must refuse it: 403). */
  sourceOverride?: string;
  /** Fail the session (SimulatorError 'protocol') if the server broke a protocol rule. */
  strict?: boolean;
}

/** The TLS identity of a device: what enrollment produces (issue 4) and a session needs. */
export interface DeviceIdentity {
  /** SyncHdr Source and ./DevInfo/DevId; opaque (§2.2). */
  deviceId: string;
  /** Client certificate (PEM; may carry the chain after the leaf). */
  cert: string;
  /** Its private key (PEM). */
  key: string;
}

export interface TlsTrust {
  /** PEM certificate(s) to trust for the server. */
  ca?: string;
  /** Skip server certificate verification (self-signed local certificate). */
  insecure?: boolean;
}

export interface SimulatedDeviceOptions extends DeviceIdentity, TlsTrust, SessionOptions {
  /**
   * The management URL. A bare origin (`https://127.0.0.1:8443`) gets the conventional path
   * `/ManagementServer/MDM.svc` (§1.1). Also the SyncHdr Target.
   */
  serverUrl: string;
  /** Query appended to the request URL like Windows does (§1.1); '' for none. */
  query?: string;
  devInfo?: Partial<DevInfo>;
  /** SyncHdr Meta MaxMsgSize sent in every message (§2.2); absent when unset. */
  maxMsgSize?: number;
  /**
   * SyncHdr Meta MaxObjSize sent in every message: a larger object (whole, or announced by a first
   * chunk's Meta/Size) is refused with 413 (OMA-DM 1.2 §7); absent when unset.
   */
  maxObjSize?: number;
  behaviour?: DeviceBehaviour;
  /** Default `MSFT OMA DM Client/1.2.0.1` (§1.2). */
  userAgent?: string;
  /** Extra HTTP headers on every request (e.g. MS-CV, client-request-id). */
  headers?: Record<string, string>;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /**
   * The WNS channel the device reports under its DMClient provider (Push/ChannelURI, with
   * Push/Status 0), as Windows does once the server configured a PFN.
   */
  push?: { providerId: string; channelUri: string; status?: string };
}

/** One HTTP request/response pair, kept for tests and for --verbose. */
export interface Exchange {
  url: string;
  requestBody: string;
  status: number;
  contentType: string | undefined;
  responseBody: string;
  durationMs: number;
}

/** One server command (one entry per Item; Atomic/Sequence get an entry of their own). */
export interface TranscriptEntry {
  /** MsgID of the server message that carried the command. */
  msgId: string;
  cmdId: string;
  verb: string;
  target: string;
  format?: string;
  data?: string;
  /** Status code the device answered; undefined when it did not answer (abort, drop, 1223). */
  answeredStatus?: string;
  /** The Results Data sent for a successful Get. */
  resultValue?: string;
  /** CmdID of the enclosing Atomic/Sequence. */
  parentCmdId?: string;
}

/** A Status the server returned for one of the device's own commands or headers. */
export interface ServerStatus {
  msgRef: string;
  cmdRef: string;
  cmd: string;
  data: string;
}

export type SessionOutcome =
  /** The server sent a message without commands. */
  | 'completed'
  /** The device sent Alert 1223 (abortAfterMessages). */
  | 'aborted'
  /** The device stopped without answering (dropAnswerForMessage). */
  | 'dropped'
  /** The server sent Alert 1223; the device does not answer it (OMA-DM §8.1). */
  | 'server-aborted';

export interface SessionResult {
  deviceId: string;
  sessionId: string;
  outcome: SessionOutcome;
  transcript: TranscriptEntry[];
  serverStatuses: ServerStatus[];
  /** Protocol rules the server broke (management-session.md), one sentence each. */
  warnings: string[];
  exchanges: Exchange[];
  durationMs: number;
}
