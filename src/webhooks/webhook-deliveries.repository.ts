import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { findPage } from '../common/mongo/find-page';
import { onlyDuplicateKeys } from '../common/mongo/mongo-errors';
import { Page, PageRequest } from '../common/pagination/pagination';
import { WebhookDeliveryDoc } from './webhook-delivery.schema';
import { ClaimedDelivery, DeliveryStatus, NewDelivery, WebhookDelivery } from './webhooks.types';

const FREE = new Date(0);

function toDelivery(d: WebhookDeliveryDoc): WebhookDelivery {
  const status = d.status as DeliveryStatus;
  return {
    id: d._id,
    subscriptionId: d.subscriptionId.toHexString(),
    eventId: d.eventId,
    eventType: d.eventType,
    status,
    attempts: d.attempts,
    nextAttemptAt: status === DeliveryStatus.Pending ? d.nextAttemptAt : null,
    lastAttemptAt: d.lastAttemptAt ?? null,
    lastStatusCode: d.lastStatusCode ?? null,
    lastLatencyMs: d.lastLatencyMs ?? null,
    lastError: d.lastError ?? null,
    deliveredAt: d.deliveredAt ?? null,
    createdAt: d.createdAt,
  };
}

export interface AttemptOutcome {
  at: Date;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

@Injectable()
export class WebhookDeliveriesRepository {
  constructor(
    @InjectModel(WebhookDeliveryDoc.name) private readonly model: Model<WebhookDeliveryDoc>,
  ) {}

  /** Inserts the deliveries not stored yet (ids are deterministic: a replay is a no-op). */
  async enqueue(items: NewDelivery[], maxAgeMs: number): Promise<number> {
    if (!items.length) return 0;
    const docs = items.map((d) => ({
      _id: `${d.eventId}:${d.subscriptionId}`,
      organizationId: d.organizationId,
      subscriptionId: d.subscriptionId,
      eventId: d.eventId,
      eventType: d.eventType,
      body: d.body,
      status: DeliveryStatus.Pending,
      attempts: 0,
      nextAttemptAt: d.at,
      deadline: new Date(d.at.getTime() + maxAgeMs),
      leaseUntil: FREE,
      leaseOwner: null,
    }));
    try {
      return (await this.model.insertMany(docs, { ordered: false })).length;
    } catch (e) {
      if (!onlyDuplicateKeys(e)) throw e;
      return -1;
    }
  }

  /**
   * Takes one due delivery whose lease is free or expired: a conditional update, so two
   * instances never hold it at once, and a dead instance's lease simply runs out.
   */
  async claim(owner: string, now: Date, leaseMs: number): Promise<ClaimedDelivery | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { status: DeliveryStatus.Pending, nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } },
        { $set: { leaseUntil: new Date(now.getTime() + leaseMs), leaseOwner: owner } },
        { sort: { nextAttemptAt: 1 }, new: true },
      )
      .lean<WebhookDeliveryDoc>()
      .exec();
    if (!doc) return null;
    return {
      id: doc._id,
      subscriptionId: doc.subscriptionId.toHexString(),
      organizationId: doc.organizationId.toHexString(),
      eventId: doc.eventId,
      eventType: doc.eventType,
      body: doc.body,
      attempts: doc.attempts,
      deadline: doc.deadline,
      leaseOwner: owner,
    };
  }

  /** Records an attempt, only while `owner` still holds the lease; answers whether it did. */
  async settle(
    d: ClaimedDelivery,
    outcome: AttemptOutcome,
    next: { status: DeliveryStatus; nextAttemptAt?: Date },
  ): Promise<boolean> {
    const set: Record<string, unknown> = {
      status: next.status,
      lastAttemptAt: outcome.at,
      lastStatusCode: outcome.statusCode,
      lastLatencyMs: outcome.latencyMs,
      lastError: outcome.error,
      leaseUntil: FREE,
      leaseOwner: null,
    };
    if (next.nextAttemptAt) set.nextAttemptAt = next.nextAttemptAt;
    if (next.status === DeliveryStatus.Delivered) set.deliveredAt = outcome.at;
    const res = await this.model
      .updateOne(
        { _id: d.id, status: DeliveryStatus.Pending, leaseOwner: d.leaseOwner },
        { $set: set, $inc: { attempts: 1 } },
      )
      .exec();
    return res.modifiedCount === 1;
  }

  /** Gives a claimed delivery back untouched (shutdown mid-send). */
  async release(d: ClaimedDelivery): Promise<void> {
    await this.model
      .updateOne(
        { _id: d.id, leaseOwner: d.leaseOwner },
        { $set: { leaseUntil: FREE, leaseOwner: null } },
      )
      .exec();
  }

  /** A delivery whose subscription is gone or inactive ends dead, saying why. */
  async abandon(d: ClaimedDelivery, reason: string, now: Date): Promise<void> {
    await this.model
      .updateOne(
        { _id: d.id, status: DeliveryStatus.Pending, leaseOwner: d.leaseOwner },
        {
          $set: {
            status: DeliveryStatus.Dead,
            lastError: reason,
            lastAttemptAt: now,
            leaseUntil: FREE,
            leaseOwner: null,
          },
        },
      )
      .exec();
  }

  list(orgId: string, subscriptionId: string, page: PageRequest): Promise<Page<WebhookDelivery>> {
    return findPage(this.model, { organizationId: orgId, subscriptionId }, page, toDelivery, {
      body: 0,
    });
  }

  async find(orgId: string, subscriptionId: string, id: string): Promise<WebhookDelivery | null> {
    const doc = await this.model
      .findOne({ _id: id, organizationId: orgId, subscriptionId })
      .select({ body: 0 })
      .lean<WebhookDeliveryDoc>()
      .exec();
    return doc ? toDelivery(doc) : null;
  }

  /** Due now with a fresh deadline, whatever it ended as; not while an instance is sending it. */
  async retry(
    orgId: string,
    subscriptionId: string,
    id: string,
    now: Date,
    maxAgeMs: number,
  ): Promise<WebhookDelivery | null> {
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, organizationId: orgId, subscriptionId, leaseUntil: { $lte: now } },
        {
          $set: {
            status: DeliveryStatus.Pending,
            nextAttemptAt: now,
            deadline: new Date(now.getTime() + maxAgeMs),
            deliveredAt: null,
          },
        },
        { new: true },
      )
      .lean<WebhookDeliveryDoc>()
      .exec();
    return doc ? toDelivery(doc) : null;
  }

  async deleteForSubscription(subscriptionId: string): Promise<void> {
    await this.model.deleteMany({ subscriptionId }).exec();
  }
}
