/** Where a loop reports a failed pass: a Nest `Logger` fits. */
export interface PollingLog {
  error(message: string): void;
}

export interface PollingLoopOptions {
  /** Names a failed pass in the log: `${name} failed: <message>`. */
  name: string;
  log: PollingLog;
  /**
   * One pass. Answers true when it found work, so the next pass runs at once rather than after
   * the idle interval. A pass that throws is logged and counts as idle.
   */
  pass: () => Promise<boolean>;
}

/**
 * A background worker's timer: one pass at a time on an unref'd setTimeout chain (never an
 * interval, so a slow pass never overlaps the next), stopped on module destroy. Every instance
 * may run one: the passes share their work through claims or leases in the store.
 */
export class PollingLoop {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private idleMs = 0;
  private started = false;
  private halted = false;

  constructor(private readonly options: PollingLoopOptions) {}

  /** True once stop() was called: a long pass checks it to hand its work back early. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Runs the first pass after `firstMs`, then again at once while busy, after `idleMs` when idle. */
  start(idleMs: number, firstMs = 0): void {
    if (this.started || this.halted) return;
    this.started = true;
    this.idleMs = idleMs;
    this.schedule(firstMs);
  }

  /** Work is waiting: run now rather than at the next poll (no-op while a pass runs or before start). */
  kick(): void {
    if (!this.started || this.halted || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  /**
   * Schedules nothing more and resolves once the running pass (if any) has finished. Not async:
   * `stopped` is already true when it returns, before the caller aborts what the pass awaits.
   */
  stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick().finally(() => {
        this.running = null;
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let busy = false;
    try {
      busy = await this.options.pass();
    } catch (e) {
      // A pass cut short by shutdown (a closed store, an aborted send) is not a failure.
      if (!this.halted)
        this.options.log.error(`${this.options.name} failed: ${(e as Error).message}`);
    }
    if (!this.halted) this.schedule(busy ? 0 : this.idleMs);
  }
}
