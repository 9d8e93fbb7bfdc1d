/** Every event on the bus: names (lower-case, dot-separated, past tense) and payloads. */
export interface EventMap {
  'command.batch.created': {
    batchId: string;
    organizationId: string;
    winEnterpriseId: string;
    winDeviceId: string;
    cmdIds: string[];
    createdBy: string;
  };
  'command.status.changed': {
    organizationId: string;
    winDeviceId: string;
    batchId: string;
    cmdId: string;
    from: string;
    to: string;
    statusCode: string | null;
    at: Date;
  };
  'syncml.status.received': {
    organizationId: string;
    winDeviceId: string;
    /** The server command the Status answers (its CmdID, which is our cmdId). */
    cmdRef: string;
    msgRef: string;
    cmd: string;
    code: string;
    receivedAt: Date;
  };
  'syncml.results.received': {
    organizationId: string;
    winDeviceId: string;
    cmdRef: string;
    msgRef: string;
    items: { path: string; format?: string; type?: string; value?: string }[];
    receivedAt: Date;
  };
  'device.alert.received': {
    organizationId: string;
    winDeviceId: string;
    alertCode: string;
    type?: string;
    format?: string;
    mark?: string;
    source?: string;
    data?: string;
    receivedAt: Date;
  };
  'device.unenrolled': {
    organizationId: string;
    winDeviceId: string;
    reason: 'device-request' | 'administrator';
    at: Date;
  };
}

export type EventName = keyof EventMap;
