import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { ForbiddenAddressError, resolveAllowed } from './address-guard';

export interface SendOptions {
  timeoutMs: number;
  responseLimitBytes: number;
  allowPrivateAddresses: boolean;
  allowHttp: boolean;
  /** Extra trusted CA certificates (PEM), added to the default roots. */
  tlsCaPem?: string;
  signal?: AbortSignal;
}

export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/**
 * One POST of `body` to `url`. Success is a 2xx; a 3xx is a failure and is never followed (the
 * Location could point anywhere, including where the address check forbids). The answer is read
 * up to the limit and dropped; a receiver that does not answer within the timeout fails.
 */
export async function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  opts: SendOptions,
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let target: URL;
  try {
    target = new URL(url);
    if (target.protocol !== 'https:' && !(opts.allowHttp && target.protocol === 'http:'))
      throw new Error(`${target.protocol} URLs are not allowed`);
  } catch (e) {
    return { ok: false, statusCode: null, latencyMs: 0, error: (e as Error).message };
  }
  let pinned: { address: string; family: number };
  try {
    pinned = await resolveAllowed(target.hostname, opts.allowPrivateAddresses);
  } catch (e) {
    const message = e instanceof ForbiddenAddressError ? e.message : `DNS: ${(e as Error).message}`;
    return { ok: false, statusCode: null, latencyMs: elapsed(), error: message };
  }
  const lookup = ((_host: string, o: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    if (o?.all) cb(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  }) as unknown as LookupFunction;
  const payload = Buffer.from(body, 'utf8');
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (r: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...r, latencyMs: elapsed() });
    };
    const onResponse = (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      const done = () =>
        finish({
          ok: status >= 200 && status < 300,
          statusCode: status,
          error:
            status >= 300 && status < 400
              ? `redirect ${status} not followed`
              : status >= 200 && status < 300
                ? null
                : `HTTP ${status}`,
        });
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= opts.responseLimitBytes) done();
      });
      res.on('end', done);
      res.on('error', done);
    };
    const common = {
      method: 'POST',
      headers: {
        ...headers,
        'Content-Type': 'application/json',
        'Content-Length': String(payload.length),
        'User-Agent': 'mullion-webhooks/1',
      },
      lookup,
      signal: opts.signal,
      agent: false as const,
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(
            target,
            { ...common, ca: opts.tlsCaPem ? [...rootCertificates, opts.tlsCaPem] : undefined },
            onResponse,
          )
        : httpRequest(target, common, onResponse);
    const timer = setTimeout(
      () => finish({ ok: false, statusCode: null, error: `timeout after ${opts.timeoutMs} ms` }),
      opts.timeoutMs,
    );
    req.on('error', (e) => finish({ ok: false, statusCode: null, error: e.message }));
    req.end(payload);
  });
}
