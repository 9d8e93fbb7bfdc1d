export const DeviceStatus = {
  Active: 'active',
  Inactive: 'inactive',
  /** An administrator unenrolled it: the PC is told to leave at its next session. */
  Unenrolling: 'unenrolling',
  Unenrolled: 'unenrolled',
} as const;
export type DeviceStatus = (typeof DeviceStatus)[keyof typeof DeviceStatus];

/** The enterprise's device CA as the API shows it; its sealed private key never leaves the repository. */
export interface EnterpriseCaInfo {
  certificatePem: string;
  /** SHA-1 of the DER, upper-case hex (the provisioning doc's Root/System key). */
  thumbprint: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

export interface WinEnterprise {
  id: string;
  organizationId: string;
  name: string;
  status: 'active';
  /** E-mail domains (lower case) whose users enroll into this enterprise. */
  domains: string[];
  /** Absent only on enterprises created before enrollment existed, until first read. */
  ca?: EnterpriseCaInfo;
  /** When the enrollment secret was last set; absent while there is none. */
  enrollmentSecretRotatedAt?: Date;
  /** The devices' DMClient poll schedule (the repository fills in DEFAULT_POLL_SCHEDULE). */
  pollSchedule?: PollSchedule;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * When devices check in by themselves (DMClient CSP Poll): `firstSet` after enrollment, then
 * `secondSet`, then every `steadyIntervalMinutes` (`steadyCount` times, 0 = forever).
 */
export interface PollSchedule {
  firstSet: { intervalMinutes: number; count: number };
  secondSet: { intervalMinutes: number; count: number };
  steadyIntervalMinutes: number;
  steadyCount: number;
  pollOnLogin: boolean;
  allUsersPollOnFirstLogin: boolean;
}

/**
 * Microsoft's recommendation (management-session.md §7): 15 min × 5, 60 min × 10, then daily
 * forever; a session at every logon.
 */
export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  firstSet: { intervalMinutes: 15, count: 5 },
  secondSet: { intervalMinutes: 60, count: 10 },
  steadyIntervalMinutes: 1440,
  steadyCount: 0,
  pollOnLogin: true,
  allUsersPollOnFirstLogin: true,
};

/** The device's WNS channel (DMClient Push/ChannelURI, Push/Status), as it last reported them. */
export interface DevicePushInfo {
  channelUri?: string;
  /** DMClient Push/Status: 0 = OK; other values are Windows' channel errors. */
  status?: string;
  /** When the device last reported them. */
  readAt?: Date;
}

export interface DeviceInventory {
  devId?: string;
  manufacturer?: string;
  model?: string;
  dmVersion?: string;
  language?: string;
  /** Further ./DevDetail values, keyed by node name. */
  details?: Record<string, string>;
}

export interface DeviceCertificateInfo {
  thumbprint: string;
  serialNumber?: string;
  notBefore?: Date;
  notAfter?: Date;
  source: 'admin' | 'enrollment';
}

/**
 * MS-WSTEP renewal (enrollment.md §9). `renewed`: a renewed certificate was issued and the device
 * has not used it yet (its current one still works until then, or until it expires); `due`: the
 * current certificate is in its renewal window (RenewPeriod before notAfter) and not renewed;
 * `expired`: past notAfter and not renewed.
 */
export const RenewalState = {
  None: 'none',
  Due: 'due',
  Renewed: 'renewed',
  Expired: 'expired',
} as const;
export type RenewalState = (typeof RenewalState)[keyof typeof RenewalState];

/** Stored with the device. */
export interface DeviceRenewalInfo {
  /** Start of the current certificate's renewal window (its notAfter − RenewPeriod at issue). */
  dueAt?: Date;
  /** The renewed certificate, until the device first opens a session with it. */
  certificate?: DeviceCertificateInfo;
  /** Start of the renewed certificate's window: `dueAt` once the device uses it. */
  nextDueAt?: Date;
  renewedAt?: Date;
}

/** As the device view shows it: computed from the stored dates when read. */
export interface DeviceRenewalView extends DeviceRenewalInfo {
  state: RenewalState;
}

export function renewalState(
  certificate: DeviceCertificateInfo | undefined,
  renewal: DeviceRenewalInfo | undefined,
  now: Date,
): RenewalState {
  if (renewal?.certificate) return RenewalState.Renewed;
  const notAfter = certificate?.notAfter;
  if (!notAfter) return RenewalState.None;
  if (now.getTime() > new Date(notAfter).getTime()) return RenewalState.Expired;
  if (renewal?.dueAt && now.getTime() >= new Date(renewal.dueAt).getTime()) return RenewalState.Due;
  return RenewalState.None;
}

export interface DeviceEnrollmentInfo {
  /** `Full` (user scope) or `Device` (Entra join). */
  type: string;
  hwDevId?: string;
  deviceName?: string;
  osVersion?: string;
  osEdition?: string;
  /** The UsernameToken user (e-mail) that enrolled the device. */
  userEmail: string;
  via: 'secret' | 'invitation';
  enrolledAt: Date;
}

export interface WinDevice {
  id: string;
  organizationId: string;
  winEnterpriseId: string;
  /** The Windows device id (./DevInfo/DevId, the SyncHdr Source). */
  deviceId: string;
  name?: string;
  mdmUserId?: string;
  status: DeviceStatus;
  certificate?: DeviceCertificateInfo;
  renewal: DeviceRenewalView;
  inventory?: DeviceInventory;
  /** From the enrollment request (MS-MDE2 AdditionalContext), when the device enrolled itself. */
  enrollment?: DeviceEnrollmentInfo;
  lastSeenAt?: Date;
  /** Administrator labels: profiles target devices by them. */
  labels: string[];
  /** WNS channel for wake-ups, when the device reported one. */
  push?: DevicePushInfo;
  /** `unenrolling`: when the administrator asked, and when it is unenrolled without confirmation. */
  unenrollRequestedAt?: Date;
  unenrollDeadline?: Date;
  unenrolledAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** At most this many labels a device (issue 11). */
export const MAX_DEVICE_LABELS = 50;
/**
 * A label: 1–64 characters, letters, digits and `_ . : -`, starting with a letter or digit (it
 * appears in a URL path: `…/labels/:label/devices`).
 */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/**
 * A change of device labels, as the profiles module sees it (devices cannot import it: import
 * cycle). `check` may refuse the change (a conflict between profiles: 409) before it is written;
 * `applied` re-plans the devices after it was.
 */
export interface DeviceLabelChange {
  organizationId: string;
  winEnterpriseId: string;
  /** The devices and their labels as they will be. */
  devices: { id: string; labels: string[] }[];
  /** Labels added to or removed from any of them. */
  changedLabels: string[];
}
export interface DeviceLabelPolicy {
  check(change: DeviceLabelChange): Promise<void>;
  applied(change: DeviceLabelChange): Promise<void>;
}

/** The seed's pattern for `:winDeviceId`: the 24-hex id or the Windows device id. */
export const WIN_DEVICE_ID_PATTERN = /^(([a-fA-F0-9]{24})|(\w{1,}))$/;
