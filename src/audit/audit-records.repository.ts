import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model } from 'mongoose';
import { findPage } from '../common/mongo/find-page';
import { insertPlain } from '../common/mongo/insert-plain';
import { Page, PageRequest } from '../common/pagination/pagination';
import { ReadModels } from '../common/mongo/read-pool';
import { AuditRecordDoc } from './audit-record.schema';
import { AuditFilter, AuditRecord, NewAuditRecord } from './audit.types';

function toAuditRecord(d: AuditRecordDoc): AuditRecord {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId ? d.organizationId.toHexString() : null,
    actor: d.actor,
    method: d.method,
    route: d.route,
    params: d.params ?? {},
    targetIds: d.targetIds ?? [],
    entityId: d.entityId ?? null,
    summary: d.summary ?? {},
    outcome: d.outcome,
    status: d.status,
    errorCode: d.errorCode ?? null,
    requestId: d.requestId ?? null,
    at: d.at,
  };
}

@Injectable()
export class AuditRecordsRepository {
  /** Records are inserted off the single write connection of the embedded store (§57). */
  private readonly inserts: Model<AuditRecordDoc>;

  constructor(
    @InjectModel(AuditRecordDoc.name) private readonly model: Model<AuditRecordDoc>,
    models: ReadModels,
  ) {
    this.inserts = models.forInserts(model);
  }

  /** One insert, one round trip. */
  async insert(record: NewAuditRecord): Promise<void> {
    await insertPlain(this.inserts, record);
  }

  list(orgId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
    const query: FilterQuery<AuditRecordDoc> = { organizationId: orgId };
    if (filter.actor !== undefined) query.actor = filter.actor;
    if (filter.targetId !== undefined) query.targetIds = filter.targetId;
    if (filter.from || filter.to) {
      query.at = {};
      if (filter.from) query.at.$gte = filter.from;
      if (filter.to) query.at.$lte = filter.to;
    }
    return findPage(this.model, query, page, toAuditRecord);
  }
}
