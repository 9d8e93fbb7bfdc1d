import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import {
  Entity,
  ERROR_HTTP_STATUS,
  ERROR_MESSAGES,
  ErrorCode,
  notFoundMessage,
  permissionDeniedMessage,
} from '../errors';

/** The tag of the device-facing operations (MDM.svc, EnrollmentServer), served on the device listener. */
export const DEVICE_PROTOCOLS_TAG = 'Device protocols';

/** Documents a 200 `{status: true, data: <model>}` (or `data: <model>[]`). */
export function ApiOkEnvelope(
  model: Type<unknown>,
  opts: { isArray?: boolean; description?: string } = {},
) {
  const data = opts.isArray
    ? { type: 'array', items: { $ref: getSchemaPath(model) } }
    : { $ref: getSchemaPath(model) };
  return applyDecorators(
    ApiExtraModels(model),
    ApiResponse({
      status: 200,
      description: opts.description ?? 'Success',
      schema: {
        type: 'object',
        required: ['status', 'data'],
        properties: { status: { type: 'boolean', example: true }, data },
      },
    }),
  );
}

const WHEN: Partial<Record<ErrorCode, string>> = {
  3001: 'missing, or in another tenant',
  4002: 'no bearer token',
  4003: 'the token lacks the permission this endpoint requires',
  4004: 'malformed, badly signed, expired or alg-none token; wrong issuer or audience',
  4009: 'conflicts with existing data',
  4091: 'two profiles would set the same path on a device to different values; `details` names both profiles and the path',
  4015: 'a body was sent without Content-Type: application/json',
  5091: 'body, query or path fails validation; `details` lists each field and why',
  5142: 'the device exists but is inactive, or unenrolled',
};

/** Codes whose errors may carry `details` (5091 always; 4009 names the field that clashes; 4091 the profiles). */
const WITH_DETAILS: readonly ErrorCode[] = [
  ErrorCode.InvalidData,
  ErrorCode.Conflict,
  ErrorCode.ProfileConflict,
];

const DETAILS_EXAMPLE: Partial<Record<ErrorCode, { field: string; message: string }[]>> = {
  5091: [
    {
      field: 'commands.0.config.format',
      message:
        'format must be one of the following values: b64, bin, bool, chr, int, node, null, xml, date, time, float',
    },
  ],
};

/** An error code with the exact messages this endpoint answers it with. */
export interface ErrorSpec {
  code: ErrorCode;
  messages: string[];
}

/** 3001 as an endpoint answers it: one message per entity its path can miss. */
export const notFoundError = (...entities: Entity[]): ErrorSpec => ({
  code: ErrorCode.EntityNotFound,
  messages: entities.map(notFoundMessage),
});

/** 4003 naming the permission the endpoint requires. */
export const permissionError = (permission: string): ErrorSpec => ({
  code: ErrorCode.PermissionDenied,
  messages: [permissionDeniedMessage(permission)],
});

/** 4009 with the texts this endpoint really answers. */
export const conflictError = (...messages: string[]): ErrorSpec => ({
  code: ErrorCode.Conflict,
  messages,
});

/**
 * Documents each error response by its API code, grouped per HTTP status, with one example per
 * message; `details` appears only where the code can carry it.
 */
export function ApiErrors(...specs: (ErrorCode | ErrorSpec)[]) {
  const byStatus = new Map<number, ErrorSpec[]>();
  for (const s of specs) {
    const spec = typeof s === 'number' ? { code: s, messages: [ERROR_MESSAGES[s]] } : s;
    const status = ERROR_HTTP_STATUS[spec.code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), spec]);
  }
  return applyDecorators(
    ...[...byStatus.entries()].map(([status, list]) => {
      const codes = list.map((s) => s.code);
      const details = codes.some((c) => WITH_DETAILS.includes(c));
      const examples = Object.fromEntries(
        list.flatMap((s) =>
          s.messages.map((message, i) => {
            const error: Record<string, unknown> = { code: s.code, message };
            if (DETAILS_EXAMPLE[s.code]) error.details = DETAILS_EXAMPLE[s.code];
            const key = s.messages.length > 1 ? `${s.code}-${i + 1}` : String(s.code);
            return [key, { summary: `${s.code} ${message}`, value: { status: false, error } }];
          }),
        ),
      );
      return ApiResponse({
        status,
        description: list
          .map(
            (s) =>
              `${s.code} ${s.messages.map((m) => `"${m}"`).join(' or ')}: ${WHEN[s.code] ?? ''}`,
          )
          .join('; '),
        schema: {
          type: 'object',
          required: ['status', 'error'],
          properties: {
            status: { type: 'boolean', enum: [false] },
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'integer', enum: codes },
                message: { type: 'string' },
                ...(details && {
                  details: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['field', 'message'],
                      properties: { field: { type: 'string' }, message: { type: 'string' } },
                    },
                  },
                }),
              },
            },
          },
        },
        examples,
      });
    }),
  );
}
