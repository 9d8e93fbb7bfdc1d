import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { PollingLoop } from '../common/polling-loop';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { StoredTargetCounts, TargetCountsRepository } from './target-counts.repository';

const JOB = 'target-recount';
/** Enterprises whose counters one pass looks at per read of `win_enterprises`. */
const ENTERPRISE_PAGE = 200;
/** A recount reads the enterprise's devices once; this bounds how long a dead holder blocks it. */
const LEASE_MS = 10 * 60 * 1000;
/** Idle poll: enterprises become due at most this late after their interval. */
const POLL_MS = 60 * 60 * 1000;

export interface RecountRun {
  /** False when another instance held the lease. */
  ran: boolean;
  /** Enterprises recounted, and those whose counters moved during the recount (retried later). */
  recounted: number;
  raced: number;
}

/**
 * The device and label counts a profile write answers from (docs/decisions.md §49), and their
 * repair: a leased pass recounts each enterprise whose counts are missing (a database from
 * before them: at start) or older than PROFILE_TARGET_RECOUNT_INTERVAL_SECONDS, writing a counter
 * only if no change was counted meanwhile.
 */
@Injectable()
export class TargetCountsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('TargetCounts');
  private readonly holder = randomUUID();
  private readonly loop = new PollingLoop({
    name: 'target recount',
    log: this.log,
    pass: async () => {
      await this.runOnce();
      return false;
    },
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly counts: TargetCountsRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.loop.start(Math.min(POLL_MS, this.config.profiles.targetRecountIntervalMs));
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * The enterprise's device count and these labels' counts; null until the enterprise was counted
   * (the caller counts the devices, and the recount is started).
   */
  async read(
    winEnterpriseId: string,
    labels: readonly string[],
  ): Promise<StoredTargetCounts | null> {
    const counts = await this.counts.read(winEnterpriseId, labels);
    if (!counts) this.loop.kick();
    return counts;
  }

  /** `n` devices of the enterprise gained (n > 0) or lost (n < 0) `label`. */
  labelChanged(winEnterpriseId: string, label: string, n: number): Promise<void> {
    return this.counts.bump(winEnterpriseId, new Map([[label, n]]));
  }

  /** The pass running in this process: passes run one after another, never side by side. */
  private running: Promise<unknown> = Promise.resolve();

  /** One pass over the enterprises: recounts those due (after any pass running here). */
  runOnce(now = new Date()): Promise<RecountRun> {
    const run = this.running.catch(() => undefined).then(() => this.pass(now));
    this.running = run;
    return run;
  }

  private async pass(now: Date): Promise<RecountRun> {
    const run: RecountRun = { ran: false, recounted: 0, raced: 0 };
    if (!(await this.counts.takeLease(JOB, this.holder, LEASE_MS, now))) return run;
    run.ran = true;
    const due = now.getTime() - this.config.profiles.targetRecountIntervalMs;
    try {
      let after: string | null = null;
      for (;;) {
        const ids = await this.counts.enterpriseIds(after, ENTERPRISE_PAGE);
        for (const id of ids) {
          if (this.loop.stopped) return run;
          const counted = await this.counts.countedAt(id);
          if (counted && counted.getTime() > due) continue;
          if (await this.recount(id, now)) run.recounted++;
          else run.raced++;
        }
        if (ids.length < ENTERPRISE_PAGE) break;
        after = ids[ids.length - 1];
      }
    } finally {
      await this.counts.releaseLease(JOB, this.holder).catch(() => undefined);
    }
    if (run.recounted || run.raced)
      this.log.log(JSON.stringify({ msg: 'target counts recounted', ...run }));
    return run;
  }

  /**
   * Recounts one enterprise from its devices. The seqs are read before the devices: a change
   * counted after that read moves its counter's seq, and that counter is left to the change
   * (its device may be missing from the tally). The enterprise is marked counted only when every
   * counter was written; true then.
   */
  async recount(winEnterpriseId: string, now = new Date()): Promise<boolean> {
    const seqs = await this.counts.seqs(winEnterpriseId);
    const tally = await this.counts.tally(winEnterpriseId);
    // Counters of labels no device carries any more go to 0.
    const labels = new Set(tally.labels.keys());
    for (const l of seqs.keys()) if (l !== null) labels.add(l);
    let exact = true;
    for (const label of labels) {
      const n = tally.labels.get(label) ?? 0;
      if (!(await this.counts.setIfUnchanged(winEnterpriseId, label, seqs.get(label) ?? null, n)))
        exact = false;
    }
    const wrote = await this.counts.setIfUnchanged(
      winEnterpriseId,
      null,
      seqs.get(null) ?? null,
      tally.all,
      exact ? now : undefined,
    );
    return exact && wrote;
  }
}
