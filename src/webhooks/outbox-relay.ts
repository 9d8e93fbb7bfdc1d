import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { OutboxRecord, OutboxRepository, PendingAlert } from './outbox.repository';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookSubscriptionsRepository } from './webhook-subscriptions.repository';
import { NewDelivery, WebhookEvent, wants } from './webhooks.types';

/** Records per source per pass: bounds one pass's memory and the size of its writes. */
const PASS_LIMIT = 200;

interface Routed {
  event: WebhookEvent;
  winDeviceId: string | null;
}

/** A stable event id: the same record read again (crash, second instance) gets the same id. */
export function outboxEventId(docId: string, k: string): string {
  return `evt_${docId}_${k}`;
}

function fromRecord(r: OutboxRecord): Routed[] {
  return r.entries.map((e) => ({
    winDeviceId: r.winDeviceId,
    event: {
      id: outboxEventId(r.docId, e.k),
      type: e.type,
      occurredAt: new Date(e.at).toISOString(),
      organizationId: r.organizationId,
      data:
        r.source === 'command'
          ? { ...r.fields, status: e.status ?? null, statusCode: e.statusCode ?? null }
          : r.fields,
    },
  }));
}

function fromAlert(a: PendingAlert): Routed {
  return {
    winDeviceId: a.winDeviceId,
    event: {
      id: `evt_${a.id}`,
      type: 'device.alert',
      occurredAt: a.receivedAt.toISOString(),
      organizationId: a.organizationId,
      data: a.fields,
    },
  };
}

/**
 * Turns outbox records into deliveries, one per interested subscription, then clears them.
 * Deliveries are stored before the records are cleared and their ids are deterministic, so a
 * crash in between replays the pass without sending anything twice (docs/decisions.md).
 */
@Injectable()
export class OutboxRelay {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly subscriptions: WebhookSubscriptionsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One pass; answers how many records it handled (0: nothing was waiting). */
  async runOnce(now = new Date()): Promise<number> {
    const [records, alerts] = await Promise.all([
      this.outbox.pending(PASS_LIMIT, now),
      this.outbox.pendingAlerts(PASS_LIMIT),
    ]);
    if (!records.length && !alerts.length) return 0;
    const routed = [...records.flatMap(fromRecord), ...alerts.map(fromAlert)];
    const orgIds = [...new Set(routed.map((r) => r.event.organizationId))];
    const subs = await this.subscriptions.activeIn(orgIds);
    const items: NewDelivery[] = routed.flatMap(({ event, winDeviceId }) =>
      subs
        .filter(
          (s) => s.organizationId === event.organizationId && wants(s, event.type, winDeviceId),
        )
        .map((s) => ({
          eventId: event.id,
          eventType: event.type,
          organizationId: event.organizationId,
          subscriptionId: s.id,
          body: JSON.stringify(event),
          at: now,
        })),
    );
    await this.deliveries.enqueue(items, this.config.webhooks.maxAgeMs);
    await Promise.all([
      this.outbox.acknowledge(records),
      this.outbox.markAlertsPublished(alerts.map((a) => a.id)),
    ]);
    return records.length + alerts.length;
  }
}
