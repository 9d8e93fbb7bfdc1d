import { Entity, ERROR_MESSAGES, ErrorCode, notFoundMessage } from './error-codes';

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

/** 404 3001 naming what is missing (or belongs to another tenant: the two look the same). */
export function notFound(entity: Entity): DomainError {
  return new DomainError(ErrorCode.EntityNotFound, notFoundMessage(entity));
}

export function assertFound<T>(value: T | null | undefined, entity: Entity): T {
  if (value === null || value === undefined) throw notFound(entity);
  return value;
}
