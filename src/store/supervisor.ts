import { setTimeout as sleep } from 'node:timers/promises';
import type { ExitInfo } from './server-process';
import type { StoreLog } from './store-log';

/** How an embedded store that dies is restarted, and when restarting stops. */
export interface SupervisorPolicy {
  /** Restarts tolerated within `windowMs`; one more death within the window gives up. */
  maxRestarts: number;
  windowMs: number;
  /** Delay before the first restart; doubled for each further restart in the window. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_SUPERVISOR_POLICY: SupervisorPolicy = {
  maxRestarts: 5,
  windowMs: 60_000,
  initialBackoffMs: 250,
  maxBackoffMs: 5_000,
};

/** The running server, as the supervisor sees it. */
export interface SupervisedServer {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  stop(): Promise<void>;
}

export interface SupervisorDeps {
  /** Starts a new server on the same data directory and port; rejects if it does not start. */
  restart(): Promise<SupervisedServer>;
  /** Called once when the policy's budget is spent; the store is then down for good. */
  onGiveUp(reason: string): void;
  log: StoreLog;
  now?: () => number;
  wait?: (ms: number) => Promise<void>;
}

/** The delay before the `n`-th restart within the window (n ≥ 1): exponential, capped. */
export function backoffDelay(n: number, policy: SupervisorPolicy): number {
  return Math.min(policy.initialBackoffMs * 2 ** Math.max(0, n - 1), policy.maxBackoffMs);
}

/**
 * Keeps a store server running: when it exits without stop() it is started again after a
 * backoff, each restart logged. Deaths are counted within a sliding window, failed restart
 * attempts included; past `maxRestarts` the supervisor gives up loudly and calls `onGiveUp`
 * (the server process then exits non-zero, so a process manager takes over).
 */
export class StoreSupervisor {
  private current: SupervisedServer;
  private stopping = false;
  private readonly deaths: number[] = [];
  private readonly now: () => number;
  private readonly wait: (ms: number) => Promise<void>;
  private settle!: (info: ExitInfo) => void;
  /** Settles when supervision ends: after stop(), or when it gave up. */
  readonly ended: Promise<ExitInfo>;
  /** Restarts that produced a running server. */
  restarts = 0;

  constructor(
    first: SupervisedServer,
    private readonly policy: SupervisorPolicy,
    private readonly deps: SupervisorDeps,
  ) {
    this.current = first;
    this.now = deps.now ?? Date.now;
    this.wait = deps.wait ?? ((ms) => sleep(ms));
    this.ended = new Promise((resolve) => (this.settle = resolve));
    this.watch(first);
  }

  get pid(): number {
    return this.current.pid;
  }

  /** Stops supervising, then the current server. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      const info = await this.current.stop().then(() => this.current.exited);
      this.settle(info);
    }
    await this.ended;
  }

  private watch(server: SupervisedServer): void {
    void server.exited.then((info) => {
      if (!this.stopping && server === this.current) void this.recover(info);
    });
  }

  private async recover(lastExit: ExitInfo): Promise<void> {
    let exit = `code ${lastExit.code}, signal ${lastExit.signal}`;
    for (;;) {
      const at = this.now();
      this.deaths.push(at);
      while (this.deaths.length && this.deaths[0] <= at - this.policy.windowMs) this.deaths.shift();
      const n = this.deaths.length;
      if (n > this.policy.maxRestarts) {
        const reason =
          `the store died ${n} times within ${this.policy.windowMs / 1000} s (last: ${exit}); ` +
          `giving up after ${this.policy.maxRestarts} restarts (STORE_MAX_RESTARTS)`;
        this.deps.log(`GIVING UP: ${reason}`);
        this.stopping = true;
        this.settle(lastExit);
        this.deps.onGiveUp(reason);
        return;
      }
      const delay = backoffDelay(n, this.policy);
      this.deps.log(
        `store (pid ${this.current.pid}) exited (${exit}); restart ${n} of ` +
          `${this.policy.maxRestarts} within ${this.policy.windowMs / 1000} s in ${delay} ms`,
      );
      await this.wait(delay);
      if (this.stopping) return;
      try {
        const server = await this.deps.restart();
        if (this.stopping) {
          await server.stop();
          return;
        }
        this.current = server;
        this.restarts++;
        this.deps.log(`store restarted (pid ${server.pid}) after ${this.now() - at} ms`);
        this.watch(server);
        return;
      } catch (error) {
        exit = `restart failed: ${error instanceof Error ? error.message.split('\n')[0] : error}`;
        this.deps.log(exit);
      }
    }
  }
}
