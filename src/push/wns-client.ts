import type { PushConfig } from '../config/app-config';

/** What one raw push came to (management-session.md §7; WNS response codes). */
export type PushResult =
  | { kind: 'sent' }
  /** 404/410: the channel no longer exists; the device reports a new one. */
  | { kind: 'gone'; status: number }
  /** 5xx, 429, 406 (throttled), network errors, a refused token: worth another attempt. */
  | { kind: 'retry'; why: string }
  /** Anything else (400, 403, 413): another attempt would be refused the same way. */
  | { kind: 'failed'; why: string };

interface CachedToken {
  value: string;
  /** Refresh before this instant (a margin before WNS's expires_in). */
  refreshAt: number;
}

/** Refreshed this long before WNS says the token expires (tokens last 24 h). */
const REFRESH_MARGIN_MS = 5 * 60_000;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * WNS over HTTP: the OAuth token (client_credentials with the package SID and secret, scope
 * notify.windows.com), cached and shared by concurrent pushes, and the raw notification.
 */
export class WnsClient {
  private token?: CachedToken;
  private pending?: Promise<string>;

  constructor(
    private readonly config: PushConfig,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Channel URIs come from devices: our bearer token goes only to WNS hosts (or configured origins). */
  acceptsChannel(uri: string): boolean {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return false;
    }
    if (this.config.extraChannelOrigins.includes(url.origin)) return true;
    const host = url.hostname.toLowerCase();
    return (
      url.protocol === 'https:' &&
      !url.username &&
      !url.password &&
      this.config.channelHostSuffixes.some((s) => host.endsWith(s.toLowerCase()))
    );
  }

  async push(channelUri: string): Promise<PushResult> {
    let bearer: string;
    try {
      bearer = await this.accessToken();
    } catch (e) {
      return { kind: 'retry', why: `token: ${errorText(e)}` };
    }
    let res: Response;
    try {
      res = await fetch(channelUri, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/octet-stream',
          'X-WNS-Type': 'wns/raw',
          // Delivered when the device comes back online (a sleeping PC still gets woken).
          'X-WNS-Cache-Policy': 'cache',
          Authorization: `Bearer ${bearer}`,
        },
        // The payload is ignored by DMClient: any byte starts a session.
        body: new Uint8Array([0x30]),
        redirect: 'error',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      return { kind: 'retry', why: errorText(e) };
    }
    if (res.ok) return { kind: 'sent' };
    if (res.status === 401) {
      // Expired or revoked token: the next attempt fetches a new one.
      if (this.token?.value === bearer) this.token = undefined;
      return { kind: 'retry', why: 'WNS 401' };
    }
    if (res.status === 404 || res.status === 410) return { kind: 'gone', status: res.status };
    if (res.status >= 500 || res.status === 429 || res.status === 406) {
      return { kind: 'retry', why: `WNS ${res.status}` };
    }
    return { kind: 'failed', why: `WNS ${res.status}` };
  }

  /** One token request at a time; the cached token until its refresh time. */
  private accessToken(): Promise<string> {
    if (this.token && this.clock() < this.token.refreshAt) return Promise.resolve(this.token.value);
    this.pending ??= this.requestToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async requestToken(): Promise<string> {
    const { packageSid, clientSecret, tokenUrl } = this.config;
    if (!packageSid || !clientSecret) throw new Error('push is not configured');
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: packageSid,
        client_secret: clientSecret.reveal().toString('utf8'),
        scope: 'notify.windows.com',
      }).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
    };
    if (!res.ok || typeof body.access_token !== 'string' || !body.access_token) {
      throw new Error(`token endpoint answered ${res.status}`);
    }
    const lifetimeMs = Number(body.expires_in) > 0 ? Number(body.expires_in) * 1000 : 3600_000;
    const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
    this.token = { value: body.access_token, refreshAt: this.clock() + lifetimeMs - margin };
    return this.token.value;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
