import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AuthUser } from '../auth/auth-user';
import { DomainError, ErrorCode, invalidData } from '../common/errors';
import { Page, PageRequest } from '../common/pagination/pagination';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { OrganizationsService } from '../organizations/organizations.service';
import { sealPrivateKey } from '../pki/key-vault';
import { ForbiddenAddressError, resolveAllowed } from './address-guard';
import { CreateWebhookDto, RotateSecretDto, UpdateWebhookDto } from './dto/webhook.dto';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { newWebhookSecret } from './webhook-signer';
import { WebhookSubscriptionsRepository } from './webhook-subscriptions.repository';
import { secretContext, WebhookWorker } from './webhook-worker';
import { PING_EVENT, WebhookDelivery, WebhookEvent, WebhookSubscription } from './webhooks.types';

export const WEBHOOK_NOT_FOUND = 'Webhook not found';
export const DELIVERY_NOT_FOUND = 'Webhook delivery not found';
export const DELIVERY_IN_FLIGHT = 'The delivery is being sent; retry it once the attempt ends';

const notFound = (message: string) => new DomainError(ErrorCode.EntityNotFound, message);

@Injectable()
export class WebhooksService {
  constructor(
    private readonly organizations: OrganizationsService,
    private readonly subscriptions: WebhookSubscriptionsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly worker: WebhookWorker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(
    user: AuthUser,
    orgIdOrSlug: string,
    dto: CreateWebhookDto,
  ): Promise<WebhookSubscription & { secret: string }> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const url = await this.checkUrl(dto.url);
    const id = this.subscriptions.newId();
    const secret = newWebhookSecret();
    const sub = await this.subscriptions.create(org.id, {
      id,
      url,
      events: dto.events,
      deviceIds: (dto.deviceIds ?? []).map((d) => d.toLowerCase()),
      active: dto.active ?? true,
      description: dto.description ?? null,
      secretSealed: this.seal(id, secret),
      createdBy: user.subject,
    });
    return { ...sub, secret };
  }

  async list(
    user: AuthUser,
    orgIdOrSlug: string,
    page: PageRequest,
  ): Promise<Page<WebhookSubscription>> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    return this.subscriptions.list(org.id, page);
  }

  async get(user: AuthUser, orgIdOrSlug: string, id: string): Promise<WebhookSubscription> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    return this.found(await this.subscriptions.find(org.id, id));
  }

  async update(
    user: AuthUser,
    orgIdOrSlug: string,
    id: string,
    dto: UpdateWebhookDto,
  ): Promise<WebhookSubscription> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const patch = {
      ...dto,
      ...(dto.url !== undefined && { url: await this.checkUrl(dto.url) }),
      ...(dto.deviceIds && { deviceIds: dto.deviceIds.map((d) => d.toLowerCase()) }),
    };
    return this.found(await this.subscriptions.update(org.id, id, patch));
  }

  async delete(user: AuthUser, orgIdOrSlug: string, id: string): Promise<{ deleted: true }> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    if (!(await this.subscriptions.delete(org.id, id))) throw notFound(WEBHOOK_NOT_FOUND);
    await this.deliveries.deleteForSubscription(id);
    return { deleted: true };
  }

  /** A new secret, shown once; the previous one keeps signing for the grace period. */
  async rotateSecret(
    user: AuthUser,
    orgIdOrSlug: string,
    id: string,
    dto: RotateSecretDto,
  ): Promise<WebhookSubscription & { secret: string }> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const current = this.found(await this.subscriptions.findWithSecrets(id));
    if (current.organizationId !== org.id) throw notFound(WEBHOOK_NOT_FOUND);
    const secret = newWebhookSecret();
    const now = new Date();
    const graceMs =
      dto.graceSeconds !== undefined ? dto.graceSeconds * 1000 : this.config.webhooks.secretGraceMs;
    const sub = await this.subscriptions.rotateSecret(
      org.id,
      id,
      current.secretSealed,
      this.seal(id, secret),
      new Date(now.getTime() + graceMs),
      now,
    );
    if (!sub)
      throw new DomainError(ErrorCode.Conflict, 'The secret was rotated concurrently; try again');
    return { ...sub, secret };
  }

  async listDeliveries(
    user: AuthUser,
    orgIdOrSlug: string,
    id: string,
    page: PageRequest,
  ): Promise<Page<WebhookDelivery>> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    this.found(await this.subscriptions.find(org.id, id));
    return this.deliveries.list(org.id, id, page);
  }

  /** Queues a `ping` event for this subscription only (sent even to an inactive one). */
  async ping(user: AuthUser, orgIdOrSlug: string, id: string): Promise<WebhookDelivery> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    const sub = this.found(await this.subscriptions.find(org.id, id));
    const now = new Date();
    const event: WebhookEvent = {
      id: `evt_ping_${randomUUID()}`,
      type: PING_EVENT,
      occurredAt: now.toISOString(),
      organizationId: org.id,
      data: { webhookId: sub.id },
    };
    await this.deliveries.enqueue(
      [
        {
          eventId: event.id,
          eventType: event.type,
          organizationId: org.id,
          subscriptionId: sub.id,
          body: JSON.stringify(event),
          at: now,
        },
      ],
      this.config.webhooks.maxAgeMs,
    );
    this.worker.kick();
    return this.found(
      await this.deliveries.find(org.id, sub.id, `${event.id}:${sub.id}`),
      DELIVERY_NOT_FOUND,
    );
  }

  async retry(
    user: AuthUser,
    orgIdOrSlug: string,
    id: string,
    deliveryId: string,
  ): Promise<WebhookDelivery> {
    const org = await this.organizations.resolveForUser(user, orgIdOrSlug);
    this.found(await this.subscriptions.find(org.id, id));
    const now = new Date();
    const retried = await this.deliveries.retry(
      org.id,
      id,
      deliveryId,
      now,
      this.config.webhooks.maxAgeMs,
    );
    if (!retried) {
      this.found(await this.deliveries.find(org.id, id, deliveryId), DELIVERY_NOT_FOUND);
      throw new DomainError(ErrorCode.Conflict, DELIVERY_IN_FLIGHT);
    }
    this.worker.kick();
    return retried;
  }

  private seal(id: string, secret: string): string {
    return sealPrivateKey(secret, this.config.enrollment.masterKey.reveal(), secretContext(id));
  }

  private found<T>(value: T | null, message = WEBHOOK_NOT_FOUND): T {
    if (value === null) throw notFound(message);
    return value;
  }

  /**
   * https (http only when allowed), no credentials in the URL, and a host that resolves now to
   * addresses the sender may reach. The sender checks again at every attempt: DNS can change.
   */
  private async checkUrl(raw: string): Promise<string> {
    const bad = (message: string) => invalidData([{ field: 'url', message }]);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw bad('url must be an absolute URL');
    }
    const { allowHttp, allowPrivateAddresses } = this.config.webhooks;
    if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:'))
      throw bad(allowHttp ? 'url must be http or https' : 'url must be https');
    if (url.username || url.password) throw bad('url must not carry credentials');
    url.hash = '';
    try {
      await resolveAllowed(url.hostname, allowPrivateAddresses);
    } catch (e) {
      if (e instanceof ForbiddenAddressError) throw bad(e.message);
      throw bad(`${url.hostname} does not resolve`);
    }
    return url.toString();
  }
}
