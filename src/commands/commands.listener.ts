import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { EventMap } from '../events/event-map';
import { CommandDeliveryService } from './command-delivery.service';

/**
 * Thin: device reports become command state. Errors propagate (suppressErrors: false) so the
 * management endpoint fails the request and the device resends, rather than losing a status.
 */
@Injectable()
export class CommandsListener {
  constructor(private readonly delivery: CommandDeliveryService) {}

  @OnEvent('syncml.status.received', { promisify: true, suppressErrors: false })
  onStatuses(e: EventMap['syncml.status.received']): Promise<void> {
    return this.delivery.recordStatuses(e);
  }

  @OnEvent('syncml.results.received', { promisify: true, suppressErrors: false })
  onResults(e: EventMap['syncml.results.received']): Promise<void> {
    return this.delivery.attachLateResults(e.winDeviceId, e.results);
  }

  @OnEvent('device.unenrolled', { promisify: true, suppressErrors: false })
  async onUnenrolled(e: EventMap['device.unenrolled']): Promise<void> {
    await this.delivery.closeQueue({ id: e.winDeviceId, organizationId: e.organizationId }, e.at);
  }
}
