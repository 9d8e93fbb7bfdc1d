import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isDuplicateKey } from '../common/mongo/mongo-errors';
import { OBJECT_ID } from '../common/mongo/object-id';
import { ReadModels } from '../common/mongo/read-pool';
import { Organization } from './organization';
import { OrganizationDoc } from './organization.schema';

function toOrganization(d: OrganizationDoc): Organization {
  return {
    id: d._id.toHexString(),
    name: d.name,
    slug: d.slug,
    status: d.status,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export class DuplicateSlugError extends Error {}

@Injectable()
export class OrganizationsRepository {
  private readonly reader: Model<OrganizationDoc>;

  constructor(
    @InjectModel(OrganizationDoc.name) private readonly model: Model<OrganizationDoc>,
    reads: ReadModels,
  ) {
    this.reader = reads.of(model);
  }

  async create(input: { name: string; slug: string }): Promise<Organization> {
    try {
      const doc = await this.model.create({ name: input.name, slug: input.slug, status: 'active' });
      return toOrganization(doc.toObject());
    } catch (e) {
      if (isDuplicateKey(e)) throw new DuplicateSlugError(input.slug);
      throw e;
    }
  }

  /** By 24-hex id or by slug (case-insensitive: slugs are stored lower-case). */
  async findByIdOrSlug(idOrSlug: string): Promise<Organization | null> {
    const filter = OBJECT_ID.test(idOrSlug) ? { _id: idOrSlug } : { slug: idOrSlug.toLowerCase() };
    const doc = await this.reader.findOne(filter).lean<OrganizationDoc>().exec();
    return doc ? toOrganization(doc) : null;
  }

  async slugExists(slug: string): Promise<boolean> {
    return (await this.model.exists({ slug })) !== null;
  }
}
