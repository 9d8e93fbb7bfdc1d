import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake WNS saw of one request. */
export interface WnsRequest {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The status the fake answered. */
  status: number;
}

/**
 * A local stand-in for WNS on 127.0.0.1: the OAuth token endpoint (`/accesstoken.srf`) and
 * channel endpoints (`/channel/<name>`), recording every request so tests check them exactly.
 * `failPushes` answers that many pushes with 500 first; `gone` channels answer 410.
 */
export class FakeWns {
  readonly tokenRequests: WnsRequest[] = [];
  readonly pushes: WnsRequest[] = [];
  failPushes = 0;
  readonly gone = new Set<string>();
  /** Called for every accepted push, with the channel name (the bench's device checks in). */
  onPush?: (channel: string) => void;
  private issued = 0;
  private waiters: { n: number; resolve: () => void }[] = [];
  private server!: Server;
  origin = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? '';
        const record = (status: number): WnsRequest => ({
          path,
          method: req.method ?? '',
          headers: req.headers,
          body,
          status,
        });
        if (path === '/accesstoken.srf') {
          this.tokenRequests.push(record(200));
          this.issued++;
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(
            JSON.stringify({
              access_token: `fake-token-${this.issued}`,
              token_type: 'bearer',
              expires_in: 86400,
            }),
          );
          return;
        }
        const channel = path.startsWith('/channel/') ? path.slice('/channel/'.length) : null;
        const status =
          channel === null
            ? 404
            : this.gone.has(channel)
              ? 410
              : this.failPushes > 0
                ? (this.failPushes--, 500)
                : 200;
        this.pushes.push(record(status));
        res.writeHead(status, status === 200 ? { 'X-WNS-Status': 'received' } : {});
        res.end();
        if (status === 200 && channel) this.onPush?.(channel);
        this.waiters = this.waiters.filter((w) => {
          if (this.pushes.length < w.n) return true;
          w.resolve();
          return false;
        });
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get tokenUrl(): string {
    return `${this.origin}/accesstoken.srf`;
  }

  channelUri(name: string): string {
    return `${this.origin}/channel/${name}`;
  }

  /** Resolves once `n` push requests (any outcome) have arrived in total. */
  waitForPushes(n: number): Promise<void> {
    if (this.pushes.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  reset(): void {
    this.tokenRequests.length = 0;
    this.pushes.length = 0;
    this.failPushes = 0;
    this.gone.clear();
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
