import type { PageRequest } from '../common/pagination/pagination';

export type AuditOutcome = 'success' | 'failure';

/** One administrative write, as stored (never a request body: see `summary`). */
export interface AuditRecord {
  id: string;
  /** The organization the write acted on, resolved to its id; null when none can be named. */
  organizationId: string | null;
  /** The token subject (`sub`). */
  actor: string;
  method: string;
  /** The route pattern, e.g. `/v1/organizations/:organizationId/mdm/windows/enterprise`. */
  route: string;
  /** The path parameters as the caller gave them (an organization slug stays a slug). */
  params: Record<string, string>;
  /** Every id the write names: the resolved organization id, the path params, the entity id. */
  targetIds: string[];
  /** The id of the entity the write created or changed, as the response names it. */
  entityId: string | null;
  /** Allow-listed, secret-free facts about the request body (counts only). */
  summary: Record<string, number>;
  outcome: AuditOutcome;
  /** The HTTP status the caller got. */
  status: number;
  /** The API error code of a failure (`error.code`); null on success. */
  errorCode: number | null;
  requestId: string | null;
  /** When the request arrived. */
  at: Date;
}

export type NewAuditRecord = Omit<AuditRecord, 'id'>;

export interface AuditFilter {
  actor?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
}

export interface AuditPageRequest {
  filter: AuditFilter;
  page: PageRequest;
}
