/**
 * Admission of management messages (decisions.md §50). Past what the store can serve, every
 * message still accepted lengthens everyone's wait, until each one outlives its device's request
 * timeout: the server then works only for devices that have hung up, and answers nobody (5,000
 * simulated PCs at a one-minute poll: 160 of 6,826 check-ins answered). The gate keeps the
 * work at the store's pace: `concurrent` messages at a time, then a FIFO of at most `queued`
 * waiting no longer than `maxWaitMs`; the rest are refused at once with 429 and Retry-After
 * (management-session.md §1: Windows treats it as a failed session and retries), and a waiting
 * message whose device has gone is dropped before it costs a read.
 */
export interface GateLimits {
  concurrent: number;
  queued: number;
  maxWaitMs: number;
}

export type Refusal = 'full' | 'waited' | 'gone';

export type Admission = { admitted: true; release: () => void } | { admitted: false; why: Refusal };

interface Waiter {
  hungUp: AbortSignal;
  resolve: (a: Admission) => void;
  timer: NodeJS.Timeout;
  onAbort: () => void;
}

export class SessionGate {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  /** Refusals since the last `takeRefused()`, by reason (the endpoint logs them, rate-limited). */
  private refused: Record<Refusal, number> = { full: 0, waited: 0, gone: 0 };

  constructor(private readonly limits: GateLimits) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Admits now, queues, or refuses. `hungUp` aborts when the device's connection closes: a
   * waiter leaves the queue then, and is refused as `gone`.
   */
  enter(hungUp: AbortSignal): Promise<Admission> {
    if (hungUp.aborted) return Promise.resolve(this.refuse('gone'));
    if (this.active < this.limits.concurrent && !this.waiting.length)
      return Promise.resolve(this.admit());
    if (this.waiting.length >= this.limits.queued) return Promise.resolve(this.refuse('full'));
    return new Promise<Admission>((resolve) => {
      const leave = (why: Refusal) => {
        const i = this.waiting.indexOf(waiter);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        this.settle(waiter);
        resolve(this.refuse(why));
      };
      const waiter: Waiter = {
        hungUp,
        resolve,
        timer: setTimeout(() => leave('waited'), this.limits.maxWaitMs),
        onAbort: () => leave('gone'),
      };
      waiter.timer.unref();
      hungUp.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Counts refused since the last call, and resets them. */
  takeRefused(): Record<Refusal, number> {
    const r = this.refused;
    this.refused = { full: 0, waited: 0, gone: 0 };
    return r;
  }

  private admit(): Admission {
    this.active++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.active--;
        this.next();
      },
    };
  }

  private settle(w: Waiter): void {
    clearTimeout(w.timer);
    w.hungUp.removeEventListener('abort', w.onAbort);
  }

  private refuse(why: Refusal): Admission {
    this.refused[why]++;
    return { admitted: false, why };
  }

  /** Hands the freed place to the oldest waiter whose device is still there. */
  private next(): void {
    while (this.active < this.limits.concurrent && this.waiting.length) {
      const w = this.waiting.shift() as Waiter;
      this.settle(w);
      if (w.hungUp.aborted) {
        w.resolve(this.refuse('gone'));
        continue;
      }
      w.resolve(this.admit());
    }
  }
}
