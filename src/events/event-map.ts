/**
 * Every event on the bus: names (lower-case, dot-separated, past tense) and payloads. An event
 * exists only while something outside its module reacts to it; a call that needs an answer is a
 * method call (docs/decisions.md).
 */
export interface EventMap {
  /** The commands module closes the device's queue (devices cannot call it: import cycle). */
  'device.unenrolled': {
    organizationId: string;
    winDeviceId: string;
    reason: 'device-request' | 'administrator';
    at: Date;
  };
  /**
   * An administrator unenrolled the device: it is `unenrolling` until the PC confirms or the
   * timeout passes (then `device.unenrolled`). The commands module closes its queue now.
   */
  'device.unenroll-requested': {
    organizationId: string;
    winDeviceId: string;
    reason: 'administrator';
    at: Date;
  };
  'enterprise.poll-schedule.changed': PollScheduleChanged;
}

/**
 * An enterprise's poll schedule changed: the commands module queues the DMClient Poll values to
 * its managed devices (devices cannot call it: import cycle).
 */
export interface PollScheduleChanged {
  organizationId: string;
  winEnterpriseId: string;
  /** DMClient Poll nodes and values, in order. */
  nodes: { path: string; value: string; format: 'int' | 'bool' }[];
  /** Who changed it (the batches' createdBy). */
  by: string;
}

export type EventName = keyof EventMap;
