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
}

export type EventName = keyof EventMap;
