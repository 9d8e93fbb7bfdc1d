import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { EventMap } from '../events/event-map';
import { CommandDeliveryService } from './command-delivery.service';
import { CommandsService } from './commands.service';

/**
 * Thin. Errors propagate (suppressErrors: false) so the unenrollment fails and is retried rather
 * than leaving the queue open.
 */
@Injectable()
export class CommandsListener {
  constructor(
    private readonly delivery: CommandDeliveryService,
    private readonly commands: CommandsService,
  ) {}

  @OnEvent('device.unenrolled', { promisify: true, suppressErrors: false })
  async onUnenrolled(e: EventMap['device.unenrolled']): Promise<void> {
    await this.delivery.closeQueue({ id: e.winDeviceId, organizationId: e.organizationId }, e.at);
  }

  /** An administrator's unenroll closes the queue at once, before the PC confirms. */
  @OnEvent('device.unenroll-requested', { promisify: true, suppressErrors: false })
  async onUnenrollRequested(e: EventMap['device.unenroll-requested']): Promise<void> {
    await this.delivery.closeQueue({ id: e.winDeviceId, organizationId: e.organizationId }, e.at);
  }

  @OnEvent('enterprise.poll-schedule.changed', { promisify: true, suppressErrors: false })
  async onPollScheduleChanged(e: EventMap['enterprise.poll-schedule.changed']): Promise<void> {
    await this.commands.queuePollSchedule(e);
  }
}
