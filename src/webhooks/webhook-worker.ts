import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { PollingLoop } from '../common/polling-loop';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { openPrivateKey } from '../pki/key-vault';
import { OutboxRelay } from './outbox-relay';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { sendWebhook } from './webhook-sender';
import {
  ATTEMPT_HEADER,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
} from './webhook-signer';
import { WebhookSubscriptionsRepository } from './webhook-subscriptions.repository';
import { ClaimedDelivery, DeliveryStatus, PING_EVENT } from './webhooks.types';

/** Deliveries one lane sends before the next relay pass: new events are not starved by retries. */
const LANE_BATCH = 50;

export const secretContext = (subscriptionId: string) => `webhook:${subscriptionId}`;

/**
 * Exponential backoff with "equal jitter": half the doubled delay fixed, half random, so
 * receivers that failed together do not all come back at the same instant.
 */
export function retryDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random = Math.random(),
): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + (capped / 2) * random);
}

/**
 * The relay and the dispatcher on one unref'd timer. Every instance runs one; they share the
 * deliveries through leases in the store, so any number may run and any may die.
 */
@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(WebhookWorker.name);
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly abort = new AbortController();
  private readonly loop = new PollingLoop({
    name: 'webhook pass',
    log: this.log,
    pass: async () => {
      const relayed = await this.relay.runOnce();
      return (await this.dispatchOnce()) > 0 || relayed > 0;
    },
  });

  constructor(
    private readonly relay: OutboxRelay,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly subscriptions: WebhookSubscriptionsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.webhooks.worker) this.loop.start(this.config.webhooks.pollIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    const idle = this.loop.stop();
    this.abort.abort();
    await idle;
  }

  /** Work is waiting (a ping, a retry): run now rather than at the next poll. */
  kick(): void {
    this.loop.kick();
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  /**
   * Claims and sends due deliveries on `concurrency` lanes; answers how many it sent. One claim
   * first: an idle pass costs one query, not one per lane.
   */
  async dispatchOnce(): Promise<number> {
    const { concurrency, leaseMs } = this.config.webhooks;
    const first = await this.deliveries.claim(this.owner, new Date(), leaseMs);
    if (!first) return 0;
    let sent = 1;
    const lane = async (start?: ClaimedDelivery) => {
      if (start) await this.deliver(start).catch((e: Error) => this.failed(start, e));
      for (let i = 0; i < LANE_BATCH && !this.stopped; i++) {
        const d = await this.deliveries.claim(this.owner, new Date(), leaseMs);
        if (!d) return;
        sent++;
        await this.deliver(d).catch((e: Error) => this.failed(d, e));
      }
    };
    await Promise.all(
      Array.from({ length: concurrency }, (_, i) => lane(i === 0 ? first : undefined)),
    );
    return sent;
  }

  /**
   * An attempt that could not even be made (a secret that no longer opens under MASTER_KEY, the
   * store failing): counted as a failed attempt, so one bad subscription never blocks the others.
   */
  private async failed(d: ClaimedDelivery, e: Error): Promise<void> {
    this.log.error(`webhook delivery ${d.id} failed before sending: ${e.message}`);
    const cfg = this.config.webhooks;
    const now = new Date();
    const next = new Date(
      now.getTime() + retryDelay(d.attempts + 1, cfg.retryBaseMs, cfg.retryMaxDelayMs),
    );
    await this.deliveries
      .settle(
        d,
        { at: now, statusCode: null, latencyMs: 0, error: e.message },
        next > d.deadline
          ? { status: DeliveryStatus.Dead }
          : { status: DeliveryStatus.Pending, nextAttemptAt: next },
      )
      .catch(() => undefined);
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const cfg = this.config.webhooks;
    const sub = await this.subscriptions.findWithSecrets(d.subscriptionId);
    if (!sub) return this.deliveries.abandon(d, 'subscription deleted', new Date());
    if (!sub.active && d.eventType !== PING_EVENT) {
      return this.deliveries.abandon(
        d,
        `subscription inactive${sub.disabledReason ? `: ${sub.disabledReason}` : ''}`,
        new Date(),
      );
    }
    const key = this.config.enrollment.masterKey.reveal();
    const context = secretContext(sub.id);
    const secrets = [openPrivateKey(sub.secretSealed, key, context)];
    if (sub.previousSecretSealed && (sub.previousSecretExpiresAt?.getTime() ?? 0) > Date.now())
      secrets.push(openPrivateKey(sub.previousSecretSealed, key, context));
    const attempt = d.attempts + 1;
    const result = await sendWebhook(
      sub.url,
      d.body,
      {
        [SIGNATURE_HEADER]: signatureHeader(secrets, Math.floor(Date.now() / 1000), d.body),
        [EVENT_ID_HEADER]: d.eventId,
        [EVENT_TYPE_HEADER]: d.eventType,
        [ATTEMPT_HEADER]: String(attempt),
      },
      { ...cfg, signal: this.abort.signal },
    );
    // Shutting down mid-send: the attempt says nothing about the receiver; hand it back.
    if (this.stopped && !result.ok) return this.deliveries.release(d);
    const now = new Date();
    const outcome = {
      at: now,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error: result.error,
    };
    if (result.ok) {
      await this.deliveries.settle(d, outcome, { status: DeliveryStatus.Delivered });
      if (sub.failingSince) await this.subscriptions.markHealthy(sub.id);
      return;
    }
    const next = new Date(
      now.getTime() + retryDelay(attempt, cfg.retryBaseMs, cfg.retryMaxDelayMs),
    );
    const dead = next > d.deadline;
    await this.deliveries.settle(
      d,
      outcome,
      dead
        ? { status: DeliveryStatus.Dead }
        : { status: DeliveryStatus.Pending, nextAttemptAt: next },
    );
    if (!sub.failingSince) await this.subscriptions.markFailing(sub.id, now);
    else if (now.getTime() - sub.failingSince.getTime() >= cfg.disableAfterMs) {
      const since = sub.failingSince.toISOString();
      const disabled = await this.subscriptions.disableIfFailingSince(
        sub.id,
        new Date(now.getTime() - cfg.disableAfterMs),
        `every delivery failed since ${since} (last: ${result.error})`,
        now,
      );
      if (disabled) this.log.warn(`webhook ${sub.id} disabled: failing since ${since}`);
    }
  }
}
