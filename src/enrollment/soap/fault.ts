import { attrs, el } from '../../common/xml';
import { Ns } from './namespaces';
import { writeSoapResponse } from './soap-response';

/**
 * MS-MDE2 2.2.10 faults with SOAP 1.2 capitalisation (the spec sample is lower-cased, which
 * Windows appears to map to the generic 0x80180006; enrollment.md §11.1 open question 1).
 * `s:` subcodes are SOAP-namespace QNames; `a:` ones are bound to the WCF dispatcher namespace
 * on the subcode value element itself, since the envelope's `a` is WS-Addressing.
 */
export const SoapFaultSubcode = {
  /** 0x80180001 */
  MessageFormat: 's:MessageFormat',
  /** 0x80180002 user not recognised */
  Authentication: 's:Authentication',
  /** 0x80180003 user not allowed to enroll */
  Authorization: 's:Authorization',
  /** 0x80180004 */
  CertificateRequest: 's:CertificateRequest',
  /** 0x80180005 */
  EnrollmentServer: 's:EnrollmentServer',
  /** 0x80180006 */
  InternalServiceFault: 'a:InternalServiceFault',
  /** 0x80180007 */
  InvalidSecurity: 'a:InvalidSecurity',
} as const;
export type SoapFaultSubcode = (typeof SoapFaultSubcode)[keyof typeof SoapFaultSubcode];

/** DeviceEnrollmentServiceError/ErrorType values (MS-MDE2 2.2.10, §11.1). */
export const EnrollmentErrorType = {
  DeviceCapReached: 'DeviceCapReached',
  DeviceNotSupported: 'DeviceNotSupported',
  NotSupported: 'NotSupported',
  NotEligibleToRenew: 'NotEligibleToRenew',
  InMaintenance: 'InMaintenance',
  UserLicense: 'UserLicense',
  InvalidEnrollmentData: 'InvalidEnrollmentData',
} as const;
export type EnrollmentErrorType = (typeof EnrollmentErrorType)[keyof typeof EnrollmentErrorType];

export interface SoapFaultInput {
  /** The response action of the failing step: …/DiscoverResponse, …/GetPoliciesResponse, …/RSTRC/wstep. */
  action: string;
  /** The request's MessageID when known. */
  relatesTo?: string;
  activityId?: string;
  subcode: SoapFaultSubcode;
  /** Human text for Reason/Text (never a secret, never a stack trace). */
  reason: string;
  /** SOAP 1.2 fault code; MS-MDE2's sample uses Receiver for every subcode. */
  code?: 'Receiver' | 'Sender';
  lang?: string;
  detail?: {
    errorType?: EnrollmentErrorType | string;
    message?: string;
    /** Logged by Windows: put the request/trace id here. */
    traceId?: string;
  };
}

export function buildSoapFault(input: SoapFaultInput): string {
  const subcodeValue = input.subcode.startsWith('a:')
    ? el('s:Value', attrs({ 'xmlns:a': Ns.WcfDispatcher }), input.subcode)
    : el('s:Value', input.subcode);
  const detail = input.detail;
  const fault = el(
    's:Fault',
    el('s:Code', el('s:Value', `s:${input.code ?? 'Receiver'}`), el('s:Subcode', subcodeValue)),
    el('s:Reason', el('s:Text', attrs({ 'xml:lang': input.lang ?? 'en-US' }), input.reason)),
    detail &&
      el(
        's:Detail',
        el(
          'DeviceEnrollmentServiceError',
          attrs({ xmlns: Ns.Enrollment }),
          detail.errorType !== undefined && el('ErrorType', detail.errorType),
          detail.message !== undefined && el('Message', detail.message),
          detail.traceId !== undefined && el('TraceId', detail.traceId),
        ),
      ),
  );
  return writeSoapResponse(
    { action: input.action, relatesTo: input.relatesTo, activityId: input.activityId },
    fault,
  );
}
