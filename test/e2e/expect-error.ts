import type { Response } from 'supertest';

/** DESIGN.md "Errors": the messages the API answers with, per code. */
export const MESSAGES = {
  3001: 'Entity not found',
  4002: 'No auth token',
  4003: 'Permission denied',
  4004: 'Invalid Token',
  5091: 'Invalid data',
  5142: 'Win Device not active',
} as const;
type DesignCode = keyof typeof MESSAGES;

const HTTP: Record<DesignCode, number> = {
  3001: 404,
  4002: 401,
  4003: 403,
  4004: 401,
  5091: 400,
  5142: 400,
};

/** The body is exactly `{status: false, error: {code, message}}` with DESIGN.md's message. */
export function expectError(res: Response, code: Exclude<DesignCode, 5091>): void {
  expect({ status: res.status, body: res.body }).toEqual({
    status: HTTP[code],
    body: { status: false, error: { code, message: MESSAGES[code] } },
  });
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
