import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { WinCommandBatchDoc, WinCommandBatchSchema } from '../commands/win-command-batch.schema';
import { WinCommandDoc, WinCommandSchema } from '../commands/win-command.schema';
import { DeviceEventDoc, DeviceEventSchema } from '../devices/device-event.schema';
import { WinDeviceDoc, WinDeviceSchema } from '../devices/win-device.schema';
import { OrganizationsModule } from '../organizations/organizations.module';
import { OutboxRelay } from './outbox-relay';
import { OutboxRepository } from './outbox.repository';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveryDoc, WebhookDeliverySchema } from './webhook-delivery.schema';
import { WebhookSubscriptionDoc, WebhookSubscriptionSchema } from './webhook-subscription.schema';
import { WebhookSubscriptionsRepository } from './webhook-subscriptions.repository';
import { WebhookWorker } from './webhook-worker';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [
    OrganizationsModule,
    MongooseModule.forFeature([
      { name: WebhookSubscriptionDoc.name, schema: WebhookSubscriptionSchema },
      { name: WebhookDeliveryDoc.name, schema: WebhookDeliverySchema },
      // The outbox carriers: the relay reads and clears their outbox fields only (outbox.repository.ts).
      { name: WinCommandDoc.name, schema: WinCommandSchema },
      { name: WinCommandBatchDoc.name, schema: WinCommandBatchSchema },
      { name: WinDeviceDoc.name, schema: WinDeviceSchema },
      { name: DeviceEventDoc.name, schema: DeviceEventSchema },
    ]),
  ],
  controllers: [WebhooksController],
  providers: [
    WebhookSubscriptionsRepository,
    WebhookDeliveriesRepository,
    OutboxRepository,
    OutboxRelay,
    WebhookWorker,
    WebhooksService,
  ],
  exports: [WebhookWorker],
})
export class WebhooksModule {}
