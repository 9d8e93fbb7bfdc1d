export const DeviceStatus = { Active: 'active', Inactive: 'inactive', Unenrolled: 'unenrolled' } as const;
export type DeviceStatus = (typeof DeviceStatus)[keyof typeof DeviceStatus];

export interface WinEnterprise {
  id: string;
  organizationId: string;
  name: string;
  status: 'active';
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
  lastSeenAt?: Date;
  unenrolledAt?: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The seed's pattern for `:winDeviceId`: the 24-hex id or the Windows device id. */
export const WIN_DEVICE_ID_PATTERN = /^(([a-fA-F0-9]{24})|(\w{1,}))$/;
