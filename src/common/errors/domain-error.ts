import { ERROR_MESSAGES, ErrorCode } from './error-codes';

/** One field-level validation problem, listed in `error.details`. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/** Thrown by services; rendered by the global filter. Services never throw HttpException. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_MESSAGES[code],
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export function invalidData(details: ErrorDetail[], message?: string): DomainError {
  return new DomainError(
    ErrorCode.InvalidData,
    message ?? ERROR_MESSAGES[ErrorCode.InvalidData],
    details,
  );
}

export function assertFound<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new DomainError(ErrorCode.EntityNotFound);
  return value;
}
