import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { PollingLoop } from '../common/polling-loop';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PartitionedKind, PlanPartitionsRepository } from './plan-partitions.repository';

const JOB = 'plan-partition-backfill';
/** The completion mark's name in store_migrations. */
export const PLAN_PARTITIONS_MIGRATION = 'plan-partitions';
/** The order matters little: devices decide the planner's level for every profile, so first. */
const KINDS: PartitionedKind[] = ['devices', 'assignments'];
/** A pass that could not take the lease (another instance runs it) tries again this much later. */
const RETRY_MS = 30_000;
/** Long enough for a batch of writes on a loaded store; renewed after every batch. */
const LEASE_MS = 5 * 60_000;
/** A progress line every this many batches. */
const LOG_EVERY = 20;

export type BackfillState = 'done' | 'interrupted' | 'leased';

export interface BackfillRun {
  state: BackfillState;
  /** Documents this run gave their partition, by collection. */
  written: Record<PartitionedKind, number>;
  batches: number;
}

/**
 * Gives devices and profile assignments written before the planning partitions existed their
 * `planGroup`/`planBucket` (decisions.md §51), so the planner pages them by partition rather
 * than by §38's `_id` ranges. In bounded batches of conditional single-document writes, one
 * instance at a time (a job lease), progress carried by the data itself (a written document no
 * longer matches the scan), and a completion mark that later starts read by `_id` instead of
 * scanning again.
 */
@Injectable()
export class PlanPartitionBackfill implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('PlanPartitionBackfill');
  private readonly holder = randomUUID();
  private finished = false;
  private readonly loop = new PollingLoop({
    name: 'planning partition backfill',
    log: this.log,
    pass: async () => {
      const run = await this.runOnce();
      if (run.state === 'done') void this.loop.stop();
      // Interrupted by shutdown: nothing more is scheduled anyway.
      return false;
    },
  });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: PlanPartitionsRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.profiles.partitionBackfill) this.loop.start(RETRY_MS);
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }

  /** True once this process has seen the backfill finished (its mark, or its own last pass). */
  get done(): boolean {
    return this.finished;
  }

  /**
   * Runs the backfill to its end, or for `maxBatches` batches (tests stop it mid-way). Answers
   * `done` when no legacy document is left (and the mark is stored), `leased` when another
   * instance runs it, `interrupted` when stopped early: a later run resumes, since the
   * documents already written no longer match the scan.
   */
  async runOnce(maxBatches = Number.POSITIVE_INFINITY): Promise<BackfillRun> {
    const run: BackfillRun = { state: 'done', written: { devices: 0, assignments: 0 }, batches: 0 };
    if (this.finished) return run;
    if (await this.store.mark(PLAN_PARTITIONS_MIGRATION)) {
      this.finished = true;
      return run;
    }
    if (!(await this.store.takeLease(JOB, this.holder, LEASE_MS, new Date())))
      return { ...run, state: 'leased' };
    const batchSize = this.config.profiles.partitionBackfillBatch;
    const started = Date.now();
    this.log.log(JSON.stringify({ msg: 'planning partition backfill started', batchSize }));
    try {
      for (const kind of KINDS) {
        for await (const docs of this.store.legacy(kind, batchSize)) {
          run.written[kind] += await this.store.setPartitions(kind, docs);
          run.batches++;
          if (run.batches % LOG_EVERY === 0) this.progress('progress', run, started);
          // Stopped, or the lease renewal lost to another instance (this one stalled past it).
          if (
            this.loop.stopped ||
            run.batches >= maxBatches ||
            !(await this.store.takeLease(JOB, this.holder, LEASE_MS, new Date()))
          ) {
            this.progress('interrupted', run, started);
            return { ...run, state: 'interrupted' };
          }
          // Requests and sessions queued meanwhile go first (the writes share one connection).
          await yieldToEventLoop();
        }
      }
      await this.store.setMark(PLAN_PARTITIONS_MIGRATION, run.written, new Date());
      this.finished = true;
      this.progress('finished', run, started);
      return run;
    } finally {
      await this.store.releaseLease(JOB, this.holder).catch(() => undefined);
    }
  }

  private progress(what: string, run: BackfillRun, started: number): void {
    this.log.log(
      JSON.stringify({
        msg: `planning partition backfill ${what}`,
        ...run.written,
        batches: run.batches,
        ms: Date.now() - started,
      }),
    );
  }
}
