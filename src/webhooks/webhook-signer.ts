import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Mullion-Signature';
export const EVENT_ID_HEADER = 'Mullion-Event-Id';
export const EVENT_TYPE_HEADER = 'Mullion-Event-Type';
export const ATTEMPT_HEADER = 'Mullion-Delivery-Attempt';

/** A new signing secret: 32 random bytes, prefixed so that a leaked one is recognisable. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, one `v1` per secret: during a
 * rotation's grace period both the new and the previous secret sign, so a receiver holding
 * either verifies (the scheme Stripe's `Stripe-Signature` uses).
 */
export function signatureHeader(secrets: string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${hmac(s, timestamp, body)}`)].join(',');
}

/**
 * What a receiver does (README "Webhooks"): true when one `v1` matches `secret` and the
 * timestamp is within `toleranceSeconds` of `now` (replays of old deliveries are refused).
 */
export function verifySignature(
  header: string,
  body: string,
  secret: string,
  now = Date.now(),
  toleranceSeconds = 300,
): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  return parts
    .filter(([k, v]) => k === 'v1' && /^[0-9a-f]{64}$/.test(v ?? ''))
    .some(([, v]) => timingSafeEqual(Buffer.from(v, 'hex'), expected));
}
