import type { AuthUser } from '../auth/auth-user';
import { OBJECT_ID } from '../common/mongo/object-id';
import type { AuditOutcome } from './audit.types';

/** One finished administrative write, as the HTTP layer saw it. */
export interface AdminWrite {
  user: AuthUser;
  method: string;
  route: string;
  params: Record<string, string>;
  /** The parsed request body: only `REQUEST_COUNTS` is ever read from it. */
  requestBody: unknown;
  status: number;
  /** The parsed JSON the caller got (`{status, data}` or `{status, error}`), if any. */
  responseBody: unknown;
  requestId: string | null;
  at: Date;
}

/** What a write names, before its organization is resolved to an id. */
export interface WriteFacts {
  outcome: AuditOutcome;
  errorCode: number | null;
  entityId: string | null;
  /** The organization id the response names (a created organization is its own). */
  responseOrganizationId: string | null;
  /** Other ids the response names that the path may have spelled differently. */
  responseIds: string[];
  summary: Record<string, number>;
}

/** The one write whose path names no organization: the entity it creates is the organization. */
export const CREATE_ORGANIZATION_ROUTE = '/v1/organizations';

/**
 * The only facts taken from a request body: how many items an array field holds. A count
 * carries no secret (no enrollment secret, token, certificate or command payload).
 */
const REQUEST_COUNTS: Readonly<Record<string, string>> = {
  commands: 'commandCount',
  cmdIds: 'cmdIdCount',
  userEmails: 'invitationCount',
};

const MAX_PARAM_LENGTH = 256;

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** Only 24-hex ids are taken from a response, so no other field (a secret) can pass as one. */
function objectId(value: unknown): string | null {
  return typeof value === 'string' && OBJECT_ID.test(value) ? value.toLowerCase() : null;
}

export function requestSummary(body: unknown): Record<string, number> {
  const fields = record(body);
  const summary: Record<string, number> = {};
  if (!fields) return summary;
  for (const [field, key] of Object.entries(REQUEST_COUNTS)) {
    const value = fields[field];
    if (Array.isArray(value)) summary[key] = value.length;
  }
  return summary;
}

/** Path params as given, strings only and bounded. */
export function pathParams(params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string') out[name] = value.slice(0, MAX_PARAM_LENGTH);
  }
  return out;
}

export function writeFacts(w: AdminWrite): WriteFacts {
  const body = record(w.responseBody);
  const outcome: AuditOutcome = w.status < 400 ? 'success' : 'failure';
  const code = record(body?.error)?.code;
  const data = outcome === 'success' ? record(body?.data) : null;
  const entityId = objectId(data?.id);
  const createsOrganization =
    w.method === 'POST' && w.route === CREATE_ORGANIZATION_ROUTE && !w.params.organizationId;
  return {
    outcome,
    errorCode: outcome === 'failure' && typeof code === 'number' ? code : null,
    entityId,
    responseOrganizationId: createsOrganization ? entityId : objectId(data?.organizationId),
    responseIds: [objectId(data?.winDeviceId)].filter((id): id is string => id !== null),
    summary: requestSummary(w.requestBody),
  };
}
