/** Event types a subscription can ask for; `*` is every one. */
export const WEBHOOK_EVENT_TYPES = [
  'command.status.changed',
  'command.batch.created',
  'device.enrolled',
  'device.unenrolled',
  'device.alert',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const ALL_EVENTS = '*';
/** Sent by `POST …/webhooks/:id/test` only, whatever the filter. */
export const PING_EVENT = 'ping';

export const DeliveryStatus = {
  Pending: 'pending',
  Delivered: 'delivered',
  Dead: 'dead',
} as const;
export type DeliveryStatus = (typeof DeliveryStatus)[keyof typeof DeliveryStatus];

/** What a receiver gets: the body of every delivery. */
export interface WebhookEvent {
  id: string;
  type: string;
  occurredAt: string;
  organizationId: string;
  data: Record<string, unknown>;
}

export interface WebhookSubscription {
  id: string;
  organizationId: string;
  url: string;
  events: string[];
  deviceIds: string[];
  active: boolean;
  description: string | null;
  secretRotatedAt: Date | null;
  previousSecretExpiresAt: Date | null;
  failingSince: Date | null;
  disabledReason: string | null;
  disabledAt: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/** The subscription with its sealed secrets: never leaves the service. */
export interface SubscriptionSecrets {
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretExpiresAt: Date | null;
}

export interface WebhookDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** A delivery an instance holds the lease of, with what it needs to send it. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  organizationId: string;
  eventId: string;
  eventType: string;
  body: string;
  attempts: number;
  deadline: Date;
  leaseOwner: string;
}

export interface NewDelivery {
  eventId: string;
  eventType: string;
  organizationId: string;
  subscriptionId: string;
  body: string;
  at: Date;
}

/** True when `sub` wants an event of `type` about `winDeviceId` (null: not about a device). */
export function wants(
  sub: Pick<WebhookSubscription, 'events' | 'deviceIds' | 'active'>,
  type: string,
  winDeviceId: string | null,
): boolean {
  if (!sub.active) return false;
  if (!sub.events.includes(ALL_EVENTS) && !sub.events.includes(type)) return false;
  if (!sub.deviceIds.length) return true;
  return winDeviceId !== null && sub.deviceIds.includes(winDeviceId);
}
