import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { PollingLoop } from '../common/polling-loop';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ReconcileService } from './reconcile.service';

/**
 * Runs reconciliation passes on a PollingLoop: at once again while a pass found work, at the poll
 * interval when idle. Every instance may run one; they share the assignments through the claims
 * (reconcileAt) in the store.
 */
@Injectable()
export class ReconcileWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(ReconcileWorker.name);
  private readonly loop = new PollingLoop({
    name: 'reconcile pass',
    log: this.log,
    pass: async () => {
      const pass = await this.reconcile.runOnce();
      return pass.delivered + pass.removing + pass.settled + pass.checks > 0;
    },
  });

  constructor(
    private readonly reconcile: ReconcileService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.profileReconcile.worker)
      this.loop.start(this.config.profileReconcile.pollIntervalMs);
  }

  async onModuleDestroy(): Promise<void> {
    await this.loop.stop();
  }
}
