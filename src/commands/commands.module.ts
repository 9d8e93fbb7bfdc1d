import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { DevicesModule } from '../devices/devices.module';
import { DeviceActionsController } from './actions/device-actions.controller';
import { DeviceActionsService } from './actions/device-actions.service';
import { PushModule } from '../push/push.module';
import { CommandDeliveryRepository } from './command-delivery.repository';
import { CommandDeliveryService } from './command-delivery.service';
import { CommandHistoryRepository } from './command-history.repository';
import { CommandRetentionJob } from './command-retention.job';
import { CommandOutcomeHooks } from './command-outcomes';
import { CommandsController } from './commands.controller';
import { CommandsListener } from './commands.listener';
import { CommandsRepository } from './commands.repository';
import { CommandsService } from './commands.service';
import { IdempotencyKeyDoc, IdempotencyKeySchema } from './idempotency-key.schema';
import { WinCommandBatchDoc, WinCommandBatchSchema } from './win-command-batch.schema';
import { WinCommandDoc, WinCommandSchema } from './win-command.schema';

@Module({
  imports: [
    DevicesModule,
    PushModule,
    MongooseModule.forFeature([
      { name: WinCommandBatchDoc.name, schema: WinCommandBatchSchema },
      { name: WinCommandDoc.name, schema: WinCommandSchema },
      { name: IdempotencyKeyDoc.name, schema: IdempotencyKeySchema },
    ]),
  ],
  controllers: [CommandsController, DeviceActionsController],
  providers: [
    CommandsRepository,
    CommandsService,
    CommandDeliveryRepository,
    CommandDeliveryService,
    CommandHistoryRepository,
    CommandRetentionJob,
    CommandOutcomeHooks,
    CommandsListener,
    DeviceActionsService,
  ],
  exports: [CommandsService, CommandDeliveryService, CommandOutcomeHooks],
})
export class CommandsModule {}
