import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorDetail, invalidData } from '../errors';

/** Flattens class-validator's nested errors into `{field, message}` with dotted paths. */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) out.push({ field, message });
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
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalidData(flattenValidationErrors(errors)),
  });
}
