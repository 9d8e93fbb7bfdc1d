import type { Response } from 'supertest';

/** DESIGN.md "Errors": the messages the API answers with, for the codes whose text is fixed. */
export const MESSAGES = {
  4002: 'No auth token',
  4004: 'Invalid Token',
  5091: 'Invalid data',
  5142: 'Win Device not active',
} as const;
type FixedCode = keyof typeof MESSAGES;

const HTTP = { 3001: 404, 4002: 401, 4003: 403, 4004: 401, 5091: 400, 5142: 400, 4015: 415 };

/** The body is exactly `{status: false, error: {code, message}}`. */
function expectExactly(res: Response, code: keyof typeof HTTP, message: string): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status: HTTP[code],
    body: { status: false, error: { code, message } },
  });
}

/** A fixed-text error with DESIGN.md's message (5142 also has the unenrolled text, below). */
export function expectError(res: Response, code: Exclude<FixedCode, 5091>): void {
  expectExactly(res, code, MESSAGES[code]);
}

/** 404 3001 naming the missing entity, e.g. `Device not found`. */
export function expectNotFound(
  res: Response,
  entity: 'Organization' | 'Enterprise' | 'Device' | 'Command batch',
): void {
  expectExactly(res, 3001, `${entity} not found`);
}

/** 403 4003 naming the permission the endpoint requires. */
export function expectDenied(res: Response, permission: string): void {
  expectExactly(res, 4003, `Permission denied: ${permission} required`);
}

/** 400 5142 for an unenrolled device: it says unenrolled, not merely inactive. */
export function expectUnenrolled(res: Response): void {
  expectExactly(
    res,
    5142,
    'Win Device is unenrolled; it must enroll again before it can receive commands',
  );
}

/** 415 4015: a body was sent to a JSON endpoint without Content-Type: application/json. */
export function expectNotJson(res: Response, got: string): void {
  expectExactly(res, 4015, `Content-Type must be application/json (got ${got})`);
}

/** 400 5091 whose `details` name `field` (validation errors list the fields). */
export function expectInvalid(res: Response, field: string): void {
  expect(res.status).toBe(400);
  expect(res.body).toEqual({
    status: false,
    error: { code: 5091, message: MESSAGES[5091], details: expect.any(Array) },
  });
  const fields = (res.body.error.details as { field: string }[]).map((d) => d.field);
  expect(fields).toContain(field);
}

/** 409 4009 with the given message. */
export function expectConflict(res: Response, message: string | RegExp): void {
  expect(res.status).toBe(409);
  expect(res.body.status).toBe(false);
  expect(res.body.error.code).toBe(4009);
  expect(res.body.error.message).toMatch(message);
}
