import { createHmac } from 'node:crypto';
import { bearer, TestApp } from './app';
import type { Seeded } from './seed';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedServerCertificate } from '../../src/tls/self-signed';

/** One request the receiver got, as it arrived. */
export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** performance.now() at arrival: for lower bounds on the sender's backoff, never upper ones. */
  at: number;
}

/** How the receiver answers a request: a status, a redirect, or never (the sender must time out). */
export type Answer = number | { redirect: string } | 'hang';

/**
 * A real HTTPS server on 127.0.0.1 with its own self-signed certificate, written to `caFile` so
 * the app under test trusts it through WEBHOOK_TLS_CA_FILE (no TLS check is switched off).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private readonly events = new EventEmitter();
  private readonly hanging: ServerResponse[] = [];
  /** Decides each answer; default 200. */
  answer: (r: Received, index: number) => Answer = () => 200;

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly caFile: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const { certPem, keyPem } = await createSelfSignedServerCertificate(['127.0.0.1']);
    const dir = mkdtempSync(join(tmpdir(), 'mullion-webhook-receiver-'));
    const caFile = join(dir, 'receiver-ca.pem');
    writeFileSync(caFile, certPem);
    let self: WebhookReceiver | null = null;
    const server = createServer({ cert: certPem, key: keyPem }, (req, res) =>
      self!.handle(req, res),
    );
    self = new WebhookReceiver(server, dir, caFile);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `https://127.0.0.1:${this.port}${path}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      const index = this.received.push(r) - 1;
      const a = this.answer(r, index);
      if (a === 'hang') this.hanging.push(res);
      else if (typeof a === 'number') res.writeHead(a).end(a < 300 ? 'ok' : 'no');
      else res.writeHead(302, { Location: a.redirect }).end();
      this.events.emit('request');
    });
  }

  /** Resolves once `predicate` holds over what was received; rejects, saying what came, after the timeout. */
  waitFor(predicate: (all: Received[]) => boolean, timeoutMs = 20_000): Promise<Received[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('request', check);
        const seen = this.received.map(
          (r) => `${r.path} ${String(r.headers['mullion-event-type'])}`,
        );
        reject(new Error(`receiver: condition not met; received ${JSON.stringify(seen)}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate(this.received)) return;
        clearTimeout(timer);
        this.events.off('request', check);
        resolve(this.received);
      };
      this.events.on('request', check);
      check();
    });
  }

  /** Requests whose body is the event of this type (pings, status changes…). */
  ofType(type: string): Received[] {
    return this.received.filter((r) => r.headers['mullion-event-type'] === type);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The README's verification recipe, written independently of the server's signer: HMAC-SHA256
 * over "<t>.<raw body>" with the secret, compared with each v1 value.
 */
export function verifiesWith(header: string, body: string, secret: string): boolean {
  const pairs = header.split(',').map((kv) => kv.split('='));
  const t = pairs.find(([k]) => k === 't')?.[1];
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return pairs.some(([k, v]) => k === 'v1' && v === mac);
}

/** Small, fast settings: the relay polls every 50 ms and retries start at 100 ms. */
export function webhookEnv(receiver: WebhookReceiver, extra: Record<string, string> = {}) {
  return {
    WEBHOOK_WORKER: 'true',
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
    WEBHOOK_TLS_CA_FILE: receiver.caFile,
    WEBHOOK_POLL_INTERVAL_MS: '50',
    WEBHOOK_RETRY_BASE_MS: '100',
    WEBHOOK_TIMEOUT_MS: '700',
    WEBHOOK_LEASE_MS: '5000',
    ...extra,
  };
}

interface DeliveryView {
  id: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}

/** Polls the deliveries endpoint (the API under test) until the first delivery matches. */
export async function waitDelivery(
  t: TestApp,
  s: Pick<Seeded, 'slug' | 'token'>,
  webhookId: string,
  done: (d: DeliveryView) => boolean,
): Promise<DeliveryView> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`delivery of ${webhookId} never matched`);
    const r = await t.http
      .get(`/v1/organizations/${s.slug}/webhooks/${webhookId}/deliveries`)
      .set(bearer(s.token));
    const d = r.body.data?.docs?.[0] as DeliveryView | undefined;
    if (d && done(d)) return d;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
