import type { DeviceCertificate } from '../devices/device-checkin.service';

export interface SoapReply {
  status: number;
  contentType: string;
  body: string;
}

export interface SoapCallContext {
  /** X-Request-Id: logged, and sent as the fault's TraceId (Windows logs it). */
  requestId: string;
  sourceIp: string;
  now: Date;
  /**
   * The client certificate of the request's TLS connection (the device listener requests one),
   * or forwarded by a trusted proxy: what lets an enrolled device re-enroll itself.
   */
  clientCertificate?: DeviceCertificate | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** ActivityId must be a GUID; our request ids are UUIDs unless the caller sent its own. */
export function activityId(ctx: SoapCallContext): string | undefined {
  return GUID.test(ctx.requestId) ? ctx.requestId : undefined;
}
