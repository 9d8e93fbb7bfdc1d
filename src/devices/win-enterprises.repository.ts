import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { WinEnterprise } from './devices.types';
import { WinEnterpriseDoc } from './win-enterprise.schema';

function toEnterprise(d: WinEnterpriseDoc): WinEnterprise {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    name: d.name,
    status: d.status,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export class EnterpriseExistsError extends Error {}

@Injectable()
export class WinEnterprisesRepository {
  constructor(@InjectModel(WinEnterpriseDoc.name) private readonly model: Model<WinEnterpriseDoc>) {}

  async create(orgId: string, input: { name: string }): Promise<WinEnterprise> {
    try {
      const doc = await this.model.create({ organizationId: orgId, name: input.name, status: 'active' });
      return toEnterprise(doc.toObject());
    } catch (e) {
      if ((e as { code?: number }).code === 11000) throw new EnterpriseExistsError(orgId);
      throw e;
    }
  }

  async findByOrganization(orgId: string): Promise<WinEnterprise | null> {
    const doc = await this.model.findOne({ organizationId: orgId }).lean<WinEnterpriseDoc>().exec();
    return doc ? toEnterprise(doc) : null;
  }
}
