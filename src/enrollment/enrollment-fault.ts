import { isStoreUnreachable } from '../common/errors';
import { CsrError } from '../pki';
import { EnrollmentErrorType, SoapFaultSubcode, SoapRequestError } from './soap';
import { EnrollmentAuthError } from './enrollment-auth.service';

/** A refusal that becomes a SOAP fault of the failing step's response action (MS-MDE2 2.2.10). */
export class EnrollmentFault extends Error {
  override readonly name = 'EnrollmentFault';
  constructor(
    readonly subcode: SoapFaultSubcode,
    /** The fault's Reason/Text: never a secret, never a stack trace. */
    message: string,
    readonly errorType?: EnrollmentErrorType,
  ) {
    super(message);
  }
}

export interface ClassifiedFailure {
  fault: EnrollmentFault;
  /** Expected refusals are warnings; anything else is an error with its stack. */
  level: 'warn' | 'error';
  log: string;
}

/** Maps every failure of a step to its fault (enrollment.md §11.1) and a log line. */
export function classifyFailure(e: unknown, sourceIp: string): ClassifiedFailure {
  const warn = (fault: EnrollmentFault, log: string): ClassifiedFailure => ({
    fault,
    level: 'warn',
    log,
  });
  if (e instanceof EnrollmentFault) return warn(e, `${e.subcode}: ${e.message}`);
  if (e instanceof SoapRequestError) {
    const fault =
      e.reason === 'invalid-security'
        ? new EnrollmentFault(
            SoapFaultSubcode.InvalidSecurity,
            'The WS-Security header cannot be read',
          )
        : new EnrollmentFault(
            SoapFaultSubcode.MessageFormat,
            `The request is not a valid message: ${e.reason}`,
          );
    return warn(fault, `unreadable request (${e.reason}): ${e.message}`);
  }
  if (e instanceof EnrollmentAuthError) {
    const subcode =
      e.fault === 'Authentication'
        ? SoapFaultSubcode.Authentication
        : SoapFaultSubcode.Authorization;
    return warn(
      new EnrollmentFault(subcode, e.message),
      `${e.fault} refused from ${sourceIp}: ${e.opts.logDetail ?? e.message}`,
    );
  }
  if (e instanceof CsrError) {
    return warn(
      new EnrollmentFault(
        SoapFaultSubcode.CertificateRequest,
        `The certificate request was refused: ${e.reason}`,
      ),
      `certificate request refused (${e.reason}): ${e.message}`,
    );
  }
  if (isStoreUnreachable(e)) {
    // enrollment.md §11.1: InMaintenance = "service in maintenance, try later"; the controller
    // sends this fault with HTTP 503 and Retry-After (STORE_UNAVAILABLE_ERROR_TYPE).
    return {
      fault: new EnrollmentFault(
        SoapFaultSubcode.InternalServiceFault,
        'The service is temporarily unavailable; try again in a few minutes',
        EnrollmentErrorType.InMaintenance,
      ),
      level: 'warn',
      log: `store unreachable: ${(e as Error).message}`,
    };
  }
  return {
    fault: new EnrollmentFault(
      SoapFaultSubcode.InternalServiceFault,
      'Internal error; try again later',
    ),
    level: 'error',
    log: `enrollment failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
  };
}
