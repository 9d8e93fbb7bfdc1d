import type { Exchange, SessionResult } from './types';

export type SimulatorErrorKind =
  /** The server answered with an HTTP status other than 200 (§1.4: 400, 401, 403, 413, …). */
  | 'http'
  /** No answer: connection refused, TLS failure, timeout. */
  | 'transport'
  /** The answer is not a usable SyncML message, or (strict) the server broke a protocol rule. */
  | 'protocol'
  /** The server's Status for the device's SyncHdr is not 200/212 (e.g. 401/407 with Chal). */
  | 'rejected';

export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  constructor(
    readonly kind: SimulatorErrorKind,
    message: string,
    /** The exchange that failed, when there was one. */
    readonly exchange?: Exchange,
    /** What the session did up to the failure. */
    readonly partial?: SessionResult,
  ) {
    super(message);
  }

  /** HTTP status of the failed exchange (0 when none arrived). */
  get httpStatus(): number {
    return this.exchange?.status ?? 0;
  }
}
