import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { findPage } from '../common/mongo/find-page';
import { newObjectId } from '../common/mongo/object-id';
import { Page, PageRequest } from '../common/pagination/pagination';
import { WebhookSubscriptionDoc } from './webhook-subscription.schema';
import { SubscriptionSecrets, WebhookSubscription } from './webhooks.types';

function toSubscription(d: WebhookSubscriptionDoc): WebhookSubscription {
  return {
    id: d._id.toHexString(),
    organizationId: d.organizationId.toHexString(),
    url: d.url,
    events: d.events,
    deviceIds: d.deviceIds ?? [],
    active: d.active,
    description: d.description ?? null,
    secretRotatedAt: d.secretRotatedAt ?? null,
    previousSecretExpiresAt: d.previousSecretExpiresAt ?? null,
    failingSince: d.failingSince ?? null,
    disabledReason: d.disabledReason ?? null,
    disabledAt: d.disabledAt ?? null,
    createdBy: d.createdBy,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export interface NewSubscription {
  id: string;
  url: string;
  events: string[];
  deviceIds: string[];
  active: boolean;
  description: string | null;
  secretSealed: string;
  createdBy: string;
}

export interface SubscriptionPatch {
  url?: string;
  events?: string[];
  deviceIds?: string[];
  active?: boolean;
  description?: string | null;
}

@Injectable()
export class WebhookSubscriptionsRepository {
  constructor(
    @InjectModel(WebhookSubscriptionDoc.name)
    private readonly model: Model<WebhookSubscriptionDoc>,
  ) {}

  /** The id is chosen first: it is the context the secret is sealed under. */
  newId(): string {
    return newObjectId();
  }

  async create(orgId: string, input: NewSubscription): Promise<WebhookSubscription> {
    const { id, ...rest } = input;
    const doc = await this.model.create({
      ...rest,
      _id: new Types.ObjectId(id),
      organizationId: orgId,
    });
    return toSubscription(doc.toObject());
  }

  async find(orgId: string, id: string): Promise<WebhookSubscription | null> {
    const doc = await this.model
      .findOne({ _id: id, organizationId: orgId })
      .lean<WebhookSubscriptionDoc>()
      .exec();
    return doc ? toSubscription(doc) : null;
  }

  async findWithSecrets(id: string): Promise<(WebhookSubscription & SubscriptionSecrets) | null> {
    const doc = await this.model.findById(id).lean<WebhookSubscriptionDoc>().exec();
    if (!doc) return null;
    return {
      ...toSubscription(doc),
      secretSealed: doc.secretSealed,
      previousSecretSealed: doc.previousSecretSealed ?? null,
      previousSecretExpiresAt: doc.previousSecretExpiresAt ?? null,
    };
  }

  list(orgId: string, page: PageRequest): Promise<Page<WebhookSubscription>> {
    return findPage(this.model, { organizationId: orgId }, page, toSubscription);
  }

  /** Active subscriptions of these organizations: the relay's fan-out, one query per pass. */
  async activeIn(orgIds: string[]): Promise<WebhookSubscription[]> {
    if (!orgIds.length) return [];
    const docs = await this.model
      .find({ organizationId: { $in: orgIds }, active: true })
      .lean<WebhookSubscriptionDoc[]>()
      .exec();
    return docs.map(toSubscription);
  }

  /** Re-activating clears the failure run and the reason it was disabled. */
  async update(
    orgId: string,
    id: string,
    patch: SubscriptionPatch,
  ): Promise<WebhookSubscription | null> {
    const set: Record<string, unknown> = { ...patch };
    if (patch.active === true)
      Object.assign(set, { failingSince: null, disabledReason: null, disabledAt: null });
    const doc = await this.model
      .findOneAndUpdate({ _id: id, organizationId: orgId }, { $set: set }, { new: true })
      .lean<WebhookSubscriptionDoc>()
      .exec();
    return doc ? toSubscription(doc) : null;
  }

  async rotateSecret(
    orgId: string,
    id: string,
    current: string,
    sealed: string,
    previousExpiresAt: Date,
    now: Date,
  ): Promise<WebhookSubscription | null> {
    // Conditional on the secret read: two rotations at once cannot both keep "their" previous.
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, organizationId: orgId, secretSealed: current },
        {
          $set: {
            secretSealed: sealed,
            previousSecretSealed: current,
            previousSecretExpiresAt: previousExpiresAt,
            secretRotatedAt: now,
          },
        },
        { new: true },
      )
      .lean<WebhookSubscriptionDoc>()
      .exec();
    return doc ? toSubscription(doc) : null;
  }

  async delete(orgId: string, id: string): Promise<boolean> {
    const res = await this.model.deleteOne({ _id: id, organizationId: orgId }).exec();
    return res.deletedCount === 1;
  }

  /** Starts the failure run unless one is running. */
  async markFailing(id: string, now: Date): Promise<void> {
    await this.model
      .updateOne({ _id: id, failingSince: null }, { $set: { failingSince: now } })
      .exec();
  }

  async markHealthy(id: string): Promise<void> {
    await this.model
      .updateOne({ _id: id, failingSince: { $ne: null } }, { $set: { failingSince: null } })
      .exec();
  }

  /** Active → inactive when its failure run started before `failingBefore`; true when it did. */
  async disableIfFailingSince(
    id: string,
    failingBefore: Date,
    reason: string,
    now: Date,
  ): Promise<boolean> {
    const res = await this.model
      .updateOne(
        { _id: id, active: true, failingSince: { $lte: failingBefore } },
        { $set: { active: false, disabledReason: reason, disabledAt: now } },
      )
      .exec();
    return res.modifiedCount === 1;
  }
}
