import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model } from 'mongoose';
import { isDuplicateKey } from '../common/mongo/mongo-errors';
import { ReadModels } from '../common/mongo/read-pool';
import { DEFAULT_POLL_SCHEDULE, PollSchedule, WinEnterprise } from './devices.types';
import { EnterpriseCaRecord, WinEnterpriseDoc } from './win-enterprise.schema';

function toEnterprise(d: WinEnterpriseDoc): WinEnterprise {
  const e: WinEnterprise = {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    name: d.name,
    status: d.status,
    domains: d.domains ?? [],
    pollSchedule: d.pollSchedule ?? DEFAULT_POLL_SCHEDULE,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  if (d.ca) {
    // The sealed key stays here: nothing above the repository sees it unless it asks for it.
    const { certificatePem, thumbprint, serialNumber, notBefore, notAfter } = d.ca;
    e.ca = { certificatePem, thumbprint, serialNumber, notBefore, notAfter };
  }
  if (d.enrollmentSecretRotatedAt) e.enrollmentSecretRotatedAt = d.enrollmentSecretRotatedAt;
  return e;
}

export class EnterpriseExistsError extends Error {}

@Injectable()
export class WinEnterprisesRepository {
  /** For lookups by id and organization, on the read pool (decisions.md §45). */
  private readonly reader: Model<WinEnterpriseDoc>;

  constructor(
    @InjectModel(WinEnterpriseDoc.name) private readonly model: Model<WinEnterpriseDoc>,
    reads: ReadModels,
  ) {
    this.reader = reads.of(model);
  }

  async create(orgId: string, input: { name: string; domains?: string[] }): Promise<WinEnterprise> {
    try {
      const doc = await this.model.create({
        organizationId: orgId,
        name: input.name,
        status: 'active',
        domains: input.domains ?? [],
      });
      return toEnterprise(doc.toObject());
    } catch (e) {
      if (isDuplicateKey(e)) throw new EnterpriseExistsError(orgId);
      throw e;
    }
  }

  async findByOrganization(orgId: string): Promise<WinEnterprise | null> {
    const doc = await this.reader
      .findOne({ organizationId: orgId })
      .lean<WinEnterpriseDoc>()
      .exec();
    return doc ? toEnterprise(doc) : null;
  }

  /** Device-facing lookup (no tenant yet): an invitation names its enterprise. */
  async findById(id: string): Promise<WinEnterprise | null> {
    const doc = await this.reader.findById(id).lean<WinEnterpriseDoc>().exec();
    return doc ? toEnterprise(doc) : null;
  }

  /** Enterprises claiming any of these domains, other than `exceptId`; at most `limit`. */
  async findByDomains(domains: string[], exceptId?: string, limit = 10): Promise<WinEnterprise[]> {
    if (!domains.length) return [];
    const filter: FilterQuery<WinEnterpriseDoc> = { domains: { $in: domains } };
    if (exceptId) filter._id = { $ne: exceptId };
    const docs = await this.model.find(filter).limit(limit).lean<WinEnterpriseDoc[]>().exec();
    return docs.map(toEnterprise);
  }

  /** Enrollment routing: the enterprises claiming a domain (≤ 2: one, or a clash) with their secret hash. */
  async findByDomainWithSecret(
    domain: string,
  ): Promise<{ enterprise: WinEnterprise; secretHash: string | null }[]> {
    const docs = await this.model
      .find({ domains: domain })
      .select({ 'ca.sealedPrivateKey': 0 })
      .limit(2)
      .lean<WinEnterpriseDoc[]>()
      .exec();
    return docs.map((d) => ({
      enterprise: toEnterprise(d),
      secretHash: d.enrollmentSecretHash ?? null,
    }));
  }

  /** `pollSchedulePending`: whether the stored schedule still waits to be queued to devices. */
  async update(
    orgId: string,
    id: string,
    patch: {
      name?: string;
      domains?: string[];
      pollSchedule?: PollSchedule;
      pollSchedulePending?: true;
    },
  ): Promise<{ enterprise: WinEnterprise; pollSchedulePending: boolean } | null> {
    const set: Record<string, unknown> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.domains !== undefined) set.domains = patch.domains;
    if (patch.pollSchedule !== undefined) set.pollSchedule = patch.pollSchedule;
    if (patch.pollSchedulePending) set.pollSchedulePending = true;
    const doc = await this.model
      .findOneAndUpdate({ _id: id, organizationId: orgId }, { $set: set }, { new: true })
      .lean<WinEnterpriseDoc>()
      .exec();
    return doc
      ? { enterprise: toEnterprise(doc), pollSchedulePending: doc.pollSchedulePending === true }
      : null;
  }

  /**
   * Clears `pollSchedulePending` if `schedule` (the one just queued) is still the stored one: a
   * schedule changed meanwhile keeps the flag until its own queuing finishes.
   */
  async clearPollSchedulePending(
    orgId: string,
    id: string,
    schedule: PollSchedule,
  ): Promise<boolean> {
    // Field by field: a whole-subdocument match would also depend on key order.
    const same = {
      'pollSchedule.firstSet.intervalMinutes': schedule.firstSet.intervalMinutes,
      'pollSchedule.firstSet.count': schedule.firstSet.count,
      'pollSchedule.secondSet.intervalMinutes': schedule.secondSet.intervalMinutes,
      'pollSchedule.secondSet.count': schedule.secondSet.count,
      'pollSchedule.steadyIntervalMinutes': schedule.steadyIntervalMinutes,
      'pollSchedule.steadyCount': schedule.steadyCount,
      'pollSchedule.pollOnLogin': schedule.pollOnLogin,
      'pollSchedule.allUsersPollOnFirstLogin': schedule.allUsersPollOnFirstLogin,
    };
    const res = await this.model
      .updateOne(
        { _id: id, organizationId: orgId, pollSchedulePending: true, ...same },
        { $unset: { pollSchedulePending: '' } },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /** Stores the CA only if the enterprise has none yet (concurrent first reads race here). */
  async setCaIfAbsent(id: string, ca: EnterpriseCaRecord): Promise<WinEnterprise | null> {
    const doc = await this.model
      .findOneAndUpdate({ _id: id, ca: { $exists: false } }, { $set: { ca } }, { new: true })
      .lean<WinEnterpriseDoc>()
      .exec();
    return doc ? toEnterprise(doc) : null;
  }

  async findSealedCaKey(id: string): Promise<string | null> {
    const doc = await this.model
      .findById(id)
      .select({ ca: 1 })
      .lean<Pick<WinEnterpriseDoc, 'ca'>>()
      .exec();
    return doc?.ca?.sealedPrivateKey ?? null;
  }

  async setEnrollmentSecretHash(
    orgId: string,
    id: string,
    hash: string,
    at: Date,
  ): Promise<WinEnterprise | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, organizationId: orgId },
        { $set: { enrollmentSecretHash: hash, enrollmentSecretRotatedAt: at } },
        { new: true },
      )
      .lean<WinEnterpriseDoc>()
      .exec();
    return doc ? toEnterprise(doc) : null;
  }
}
