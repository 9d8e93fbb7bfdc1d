export const DeviceStatus = {
  Active: 'active',
  Inactive: 'inactive',
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
  createdAt: Date;
  updatedAt: Date;
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
  inventory?: DeviceInventory;
  /** From the enrollment request (MS-MDE2 AdditionalContext), when the device enrolled itself. */
  enrollment?: DeviceEnrollmentInfo;
  lastSeenAt?: Date;
  unenrolledAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The seed's pattern for `:winDeviceId`: the 24-hex id or the Windows device id. */
export const WIN_DEVICE_ID_PATTERN = /^(([a-fA-F0-9]{24})|(\w{1,}))$/;
