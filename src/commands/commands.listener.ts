import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { EventMap } from '../events/event-map';
import { CommandDeliveryService } from './command-delivery.service';

/**
 * Thin. Errors propagate (suppressErrors: false) so the unenrollment fails and is retried rather
 * than leaving the queue open.
 */
@Injectable()
export class CommandsListener {
  constructor(private readonly delivery: CommandDeliveryService) {}

  @OnEvent('device.unenrolled', { promisify: true, suppressErrors: false })
  async onUnenrolled(e: EventMap['device.unenrolled']): Promise<void> {
    await this.delivery.closeQueue({ id: e.winDeviceId, organizationId: e.organizationId }, e.at);
  }
}
