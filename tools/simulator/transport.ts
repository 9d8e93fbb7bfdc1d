import { Agent, request } from 'node:https';
import { SimulatorError } from './simulator-error';
import type { Exchange, TlsTrust } from './types';

export interface TransportOptions extends TlsTrust {
  /** Client certificate and key (PEM) presented in the TLS handshake (§1.3). */
  cert?: string;
  key?: string;
  userAgent?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export const WINDOWS_USER_AGENT = 'MSFT OMA DM Client/1.2.0.1';
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * HTTPS POSTs over one keep-alive agent, with the device's client certificate when it has one.
 * Shared by management sessions and (later) the enrollment client, which posts SOAP without one.
 */
export class DeviceTransport {
  private readonly agent: Agent;

  constructor(private readonly opts: TransportOptions) {
    this.agent = new Agent({
      keepAlive: true,
      ...(opts.cert !== undefined && { cert: opts.cert }),
      ...(opts.key !== undefined && { key: opts.key }),
      ...(opts.ca !== undefined && { ca: opts.ca }),
      rejectUnauthorized: !opts.insecure,
    });
  }

  /** Any HTTP status is an answer; only a failed connection, TLS error or timeout throws. */
  post(url: string, body: string | Buffer, contentType: string): Promise<Exchange> {
    const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const started = performance.now();
    return new Promise<Exchange>((resolve, reject) => {
      const fail = (err: Error) =>
        reject(new SimulatorError('transport', `POST ${url} failed: ${err.message}`));
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'Content-Type': contentType,
            'Content-Length': payload.length,
            'User-Agent': this.opts.userAgent ?? WINDOWS_USER_AGENT,
            ...this.opts.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) res.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('end', () =>
            resolve({
              url,
              requestBody: payload.toString('utf8'),
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              responseBody: Buffer.concat(chunks).toString('utf8'),
              durationMs: performance.now() - started,
            }),
          );
        },
      );
      req.setTimeout(this.opts.timeoutMs ?? 30_000, () =>
        req.destroy(new Error(`no answer within ${this.opts.timeoutMs ?? 30_000} ms`)),
      );
      req.on('error', fail);
      req.end(payload);
    });
  }

  /** Closes the kept-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}
