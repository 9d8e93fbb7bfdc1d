import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ERROR_HTTP_STATUS, ERROR_MESSAGES, ErrorCode } from '../errors';

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

const WHEN: Partial<Record<number, string>> = {
  3001: 'Organization, enterprise, device or command missing, or in another tenant',
  4002: 'No bearer token',
  4003: 'The token lacks the permission this endpoint requires',
  4004: 'Malformed, badly signed, expired or alg-none token; wrong issuer or audience',
  4009: 'Conflicts with existing data',
  5091: 'Body, query or path fails validation; `details` lists each field and why',
  5142: 'The device exists but is not active',
};

/** Documents each error response by its API code, grouped per HTTP status. */
export function ApiErrors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of codes) {
    const s = ERROR_HTTP_STATUS[c];
    byStatus.set(s, [...(byStatus.get(s) ?? []), c]);
  }
  return applyDecorators(
    ...[...byStatus.entries()].map(([status, list]) =>
      ApiResponse({
        status,
        description: list.map((c) => `${c} ${ERROR_MESSAGES[c]}: ${WHEN[c] ?? ''}`).join('; '),
        schema: {
          type: 'object',
          properties: {
            status: { type: 'boolean', example: false },
            error: {
              type: 'object',
              properties: {
                code: { type: 'integer', enum: list, example: list[0] },
                message: { type: 'string', example: ERROR_MESSAGES[list[0]] },
                details: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { field: { type: 'string' }, message: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      }),
    ),
  );
}
