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
import { CommandHistoryRepository } from './command-history.repository';

const JOB = 'command-retention';
const DAY_MS = 24 * 60 * 60 * 1000;
/** Commands one delete removes: bounded, so a first run over years of history never stalls the store. */
export const RETENTION_BATCH = 500;
/** Deletes per run; the rest waits for the next run. */
const BATCHES_PER_RUN = 20;
const INTERVAL_MS = 60 * 60 * 1000;
const FIRST_RUN_MS = 60 * 1000;
const LEASE_MS = 10 * 60 * 1000;

export interface RetentionRun {
  /** False when another instance held the job's lease (or retention is off). */
  ran: boolean;
  commands: number;
  batches: number;
}

/**
 * COMMAND_HISTORY_RETENTION_DAYS: finished commands older than the retention are deleted, then
 * the batches they leave empty (docs/decisions.md). Hourly, on one instance at a time (a job
 * lease), in bounded deletes through the receivedAt/canceledAt indexes. No TTL index: outside
 * DESIGN.md's portable subset, and blind to the command's state.
 */
@Injectable()
export class CommandRetentionJob implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('CommandRetention');
  private readonly holder = randomUUID();
  private readonly loop = new PollingLoop({
    name: 'retention run',
    log: this.log,
    // Hourly whatever a run found: its batches are bounded and the next run picks up the rest.
    pass: async () => {
      await this.runOnce();
      return false;
    },
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly history: CommandHistoryRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.commands.historyRetentionDays > 0) this.loop.start(INTERVAL_MS, FIRST_RUN_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /** One run: up to BATCHES_PER_RUN bounded deletes of what the retention has passed. */
  async runOnce(now = new Date()): Promise<RetentionRun> {
    const days = this.config.commands.historyRetentionDays;
    const none = { ran: false, commands: 0, batches: 0 };
    if (days <= 0) return none;
    if (!(await this.history.takeLease(JOB, this.holder, LEASE_MS, now))) return none;
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    const run = { ran: true, commands: 0, batches: 0 };
    try {
      for (let i = 0; i < BATCHES_PER_RUN && !this.loop.stopped; i++) {
        const { ids, batchIds } = await this.history.finishedBefore(cutoff, RETENTION_BATCH);
        run.commands += await this.history.deleteFinished(ids);
        run.batches += await this.history.deleteEmptyBatches(batchIds);
        if (ids.length < RETENTION_BATCH) break;
      }
    } finally {
      await this.history.releaseLease(JOB, this.holder).catch(() => undefined);
    }
    if (run.commands || run.batches) {
      this.log.log(
        JSON.stringify({ msg: 'command history deleted', ...run, before: cutoff.toISOString() }),
      );
    }
    return run;
  }
}
