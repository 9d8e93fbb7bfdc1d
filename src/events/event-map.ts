export interface DeviceStatusReport {
  /** CmdRef: the server command answered, i.e. our cmdId. */
  cmdRef: string;
  msgRef: string;
  /** The verb the device says it answered (Cmd). */
  cmd: string;
  code: string;
}

export interface DeviceResultsReport {
  cmdRef: string;
  msgRef?: string;
  items: { path: string; format?: string; type?: string; value?: string }[];
}

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
  /**
   * The Statuses one device message carried for server commands, in message order. One event
   * per message (not per Status) so recording k statuses costs a constant number of round trips.
   */
  'syncml.status.received': {
    organizationId: string;
    winDeviceId: string;
    sessionRef: string;
    statuses: DeviceStatusReport[];
    /** Results of the same message, keyed by the CmdRef (our cmdId) of the Get they answer. */
    results: DeviceResultsReport[];
    receivedAt: Date;
  };
  /** Results whose Status arrived in an earlier message (rare; large objects, split packages). */
  'syncml.results.received': {
    organizationId: string;
    winDeviceId: string;
    results: DeviceResultsReport[];
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
