import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ReconcileService } from './reconcile.service';

/**
 * Runs reconciliation passes on one unref'd timer: at once again while a pass found work, at the
 * poll interval when idle. Every instance may run one; they share the assignments through the
 * claims (reconcileAt) in the store.
 */
@Injectable()
export class ReconcileWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(ReconcileWorker.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly reconcile: ReconcileService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.profileReconcile.worker) this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
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
      const pass = await this.reconcile.runOnce();
      busy = pass.delivered + pass.removing + pass.settled + pass.checks > 0;
    } catch (e) {
      if (!this.stopped) this.log.error(`reconcile pass failed: ${(e as Error).message}`);
    }
    if (!this.stopped) this.schedule(busy ? 0 : this.config.profileReconcile.pollIntervalMs);
  }
}
