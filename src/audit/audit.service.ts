import { Injectable, Logger } from '@nestjs/common';
import { AuthUser, canActOn } from '../auth/auth-user';
import { isStoreUnreachable } from '../common/errors';
import { OBJECT_ID } from '../common/mongo/object-id';
import { Page, PageRequest } from '../common/pagination/pagination';
import { OrganizationsService } from '../organizations/organizations.service';
import { AdminWrite, writeFacts } from './admin-write';
import { AuditRecordsRepository } from './audit-records.repository';
import { AuditFilter, AuditRecord, NewAuditRecord } from './audit.types';

interface OrganizationKey {
  id: string;
  slug: string;
}

/** Organizations are never renamed or deleted, so id ↔ slug can be remembered; bounded anyway. */
const ORGANIZATION_CACHE_SIZE = 10_000;

@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');
  private readonly organizationsByKey = new Map<string, OrganizationKey>();

  constructor(
    private readonly repo: AuditRecordsRepository,
    private readonly organizations: OrganizationsService,
  ) {}

  /**
   * Records one write; never throws. Fails open (docs/decisions.md "Audit trail"): the write
   * already happened, so a lost record is logged in full rather than turned into an error.
   */
  async record(write: AdminWrite): Promise<void> {
    let entry: NewAuditRecord | null = null;
    try {
      entry = await this.toRecord(write);
      await this.repo.insert(entry);
    } catch (e) {
      this.logger.error(
        `Audit record not stored: ${JSON.stringify(entry ?? { actor: write.user.subject, method: write.method, route: write.route, params: write.params, status: write.status })}`,
        // An unreachable store is expected while it restarts: its message says enough.
        isStoreUnreachable(e) ? (e as Error).message : e instanceof Error ? e.stack : String(e),
      );
    }
  }

  async list(
    user: AuthUser,
    orgIdOrSlug: string,
    filter: AuditFilter,
    page: PageRequest,
  ): Promise<Page<AuditRecord>> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    return this.repo.list(org.id, filter, page);
  }

  private async toRecord(w: AdminWrite): Promise<NewAuditRecord> {
    const facts = writeFacts(w);
    const organizationId =
      facts.responseOrganizationId ?? (await this.organizationOf(w, facts.outcome === 'success'));
    const targetIds = new Set<string>();
    for (const id of [
      organizationId,
      ...Object.values(w.params),
      facts.entityId,
      ...facts.responseIds,
    ])
      if (id) targetIds.add(id);
    return {
      organizationId,
      actor: w.user.subject,
      method: w.method,
      route: w.route,
      params: w.params,
      targetIds: [...targetIds],
      entityId: facts.entityId,
      summary: facts.summary,
      outcome: facts.outcome,
      status: w.status,
      errorCode: facts.errorCode,
      requestId: w.requestId,
      at: w.at,
    };
  }

  /**
   * The organization a write is filed under. A failure is filed under an organization only when
   * the token may act on it: a tenant never reads another tenant's subjects in its trail, and
   * cannot fill another's trail with its own denials. Such writes are kept with no organization.
   */
  private async organizationOf(w: AdminWrite, succeeded: boolean): Promise<string | null> {
    const given = w.params.organizationId;
    if (!given) return null;
    if (OBJECT_ID.test(given) && (succeeded || canActOn(w.user, { id: given.toLowerCase() })))
      return given.toLowerCase();
    const org = await this.organizationKey(given);
    if (!org) return null;
    return succeeded || canActOn(w.user, org) ? org.id : null;
  }

  private async organizationKey(idOrSlug: string): Promise<OrganizationKey | null> {
    const key = idOrSlug.toLowerCase();
    const known = this.organizationsByKey.get(key);
    if (known) return known;
    const org = await this.organizations.findById(idOrSlug);
    if (!org) return null;
    if (this.organizationsByKey.size >= ORGANIZATION_CACHE_SIZE) this.organizationsByKey.clear();
    const entry = { id: org.id, slug: org.slug };
    this.organizationsByKey.set(org.id, entry);
    this.organizationsByKey.set(org.slug, entry);
    return entry;
  }
}
