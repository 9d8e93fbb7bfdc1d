import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ValidateIf } from 'class-validator';
import { ErrorDetail, invalidData } from '../errors';

/**
 * The one message a field gets: the first constraint it fails in declaration order, so a number
 * sent for a string is "must be a string", not also "must be shorter than 500 characters".
 * class-validator runs `@IsDefined` first, then the other decorators bottom-up (the order
 * TypeScript applies them), then nested validation; `constraints` keeps that order.
 */
export function firstConstraint(constraints: Record<string, string>): string | undefined {
  if (constraints.isDefined) return constraints.isDefined;
  const own = Object.keys(constraints).filter((k) => k !== 'nestedValidation');
  return own.length ? constraints[own[own.length - 1]] : constraints.nestedValidation;
}

/** Flattens class-validator's nested errors into one `{field, message}` per field, dotted paths. */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const message = firstConstraint(e.constraints ?? {});
    if (message) out.push({ field, message });
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

/** Global pipe: unknown fields are refused, not silently dropped; every failure is 400 5091. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // Every constraint runs so that firstConstraint can pick by declaration order; with
    // stopAtFirstError class-validator would stop at the *last* declared one instead.
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalidData(flattenValidationErrors(errors)),
  });
}

/**
 * For optional body fields: only an absent field skips validation. `@IsOptional` also lets
 * `null` through, and a service reading `dto.name !== undefined` would then store it; no body
 * field of this API takes null, so null is validated (and refused) like any other wrong type.
 */
export function IsOptionalNotNull(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}
