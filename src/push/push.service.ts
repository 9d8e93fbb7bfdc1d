import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PushResult, WnsClient } from './wns-client';

/** The device facts a wake-up needs. */
export interface PushTarget {
  id: string;
  push?: { channelUri?: string };
}

export type WakeRequest =
  /** A push is on its way (or will follow the one in flight). */
  | 'requested'
  /** No WNS credentials configured: the device gets its commands at its next poll. */
  | 'off'
  /** The device never reported a channel URI we may push to. */
  | 'no-channel';

export type ChannelGoneHandler = (winDeviceId: string, channelUri: string) => Promise<void>;

export const WNS_CLIENT = Symbol('WNS_CLIENT');

/**
 * Wakes devices through WNS (raw push) so they check in now rather than at their next poll.
 * Never awaited by the caller: a slow or failing WNS cannot block or fail an enqueue. Pushes to
 * one device coalesce: while one is in flight, further requests make it send once more after.
 */
@Injectable()
export class PushService {
  private readonly logger = new Logger('Push');
  private readonly inflight = new Map<string, { again: boolean }>();
  private readonly goneHandlers: ChannelGoneHandler[] = [];
  private readonly running = new Set<Promise<void>>();
  private readonly wait: (ms: number) => Promise<void> = (ms) =>
    new Promise((r) => setTimeout(r, ms).unref());

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WNS_CLIENT) private readonly wns: WnsClient,
  ) {}

  /** The devices module forgets a channel WNS says is gone. */
  onChannelGone(handler: ChannelGoneHandler): void {
    this.goneHandlers.push(handler);
  }

  /** Fire-and-forget: errors are logged, never thrown. */
  wake(device: PushTarget): WakeRequest {
    if (!this.config.push.enabled) return 'off';
    const uri = device.push?.channelUri;
    if (!uri || !this.wns.acceptsChannel(uri)) return 'no-channel';
    const current = this.inflight.get(device.id);
    if (current) {
      current.again = true;
      return 'requested';
    }
    const state = { again: false };
    this.inflight.set(device.id, state);
    const run = this.run(device.id, uri, state)
      .catch((e: unknown) => this.logger.error(`Push to ${device.id} failed: ${String(e)}`))
      .finally(() => {
        this.inflight.delete(device.id);
        this.running.delete(run);
      });
    this.running.add(run);
    return 'requested';
  }

  /** Resolves when every push started so far has finished (shutdown, tests). */
  async settle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  private async run(winDeviceId: string, uri: string, state: { again: boolean }): Promise<void> {
    do {
      state.again = false;
      const result = await this.sendWithRetries(uri);
      if (result.kind === 'sent') continue;
      if (result.kind === 'gone') {
        this.logger.warn(`WNS channel of ${winDeviceId} is gone (${result.status})`);
        for (const h of this.goneHandlers) await h(winDeviceId, uri);
        return;
      }
      this.logger.warn(`Push to ${winDeviceId} given up: ${result.why}`);
      return;
    } while (state.again);
  }

  /** The first attempt, then one per configured delay while WNS answers something retryable. */
  private async sendWithRetries(uri: string): Promise<PushResult> {
    const delays = this.config.push.retryDelaysMs;
    let result = await this.wns.push(uri);
    for (let i = 0; result.kind === 'retry' && i < delays.length; i++) {
      this.logger.warn(`Push attempt ${i + 1} failed (${result.why}); retrying in ${delays[i]} ms`);
      await this.wait(delays[i]);
      result = await this.wns.push(uri);
    }
    return result;
  }
}
