import { Injectable, Logger } from '@nestjs/common';
import type { CommandOrigin } from './commands.types';

/** Batches with an origin whose commands a device message just answered. */
export interface CommandOutcomes {
  organizationId: string;
  winDeviceId: string;
  batches: { batchId: string; origin: CommandOrigin }[];
}

export type CommandOutcomeListener = (e: CommandOutcomes) => Promise<void>;

/**
 * Lets a module that queued commands (enqueueInternal) hear promptly that their statuses were
 * recorded, without commands importing it (the folder graph is a DAG). Only a hint: the stored
 * statuses stay the source of truth, and a listener that missed a call (a crash, a failure)
 * must repair itself from them. A listener's failure never fails the device's message.
 */
@Injectable()
export class CommandOutcomeHooks {
  private readonly logger = new Logger('CommandOutcomes');
  private readonly listeners: CommandOutcomeListener[] = [];

  register(listener: CommandOutcomeListener): void {
    this.listeners.push(listener);
  }

  async notify(e: CommandOutcomes): Promise<void> {
    if (!e.batches.length) return;
    for (const listener of this.listeners) {
      try {
        await listener(e);
      } catch (err) {
        this.logger.error(
          `Outcome listener failed for device ${e.winDeviceId}: ${(err as Error).message}`,
        );
      }
    }
  }
}

/** One entry per batch among the commands that have an origin. */
export function originBatches(
  commands: { batchId: string; origin?: CommandOrigin }[],
): CommandOutcomes['batches'] {
  const out = new Map<string, CommandOrigin>();
  for (const c of commands) if (c.origin && !out.has(c.batchId)) out.set(c.batchId, c.origin);
  return [...out].map(([batchId, origin]) => ({ batchId, origin }));
}
