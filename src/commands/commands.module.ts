import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { DevicesModule } from '../devices/devices.module';
import { CommandDeliveryRepository } from './command-delivery.repository';
import { CommandDeliveryService } from './command-delivery.service';
import { CommandsController } from './commands.controller';
import { CommandsListener } from './commands.listener';
import { CommandsRepository } from './commands.repository';
import { CommandsService } from './commands.service';
import {
  IdempotencyKeyDoc,
  IdempotencyKeySchema,
  WinCommandBatchDoc,
  WinCommandBatchSchema,
  WinCommandDoc,
  WinCommandSchema,
} from './command.schemas';

@Module({
  imports: [
    DevicesModule,
    MongooseModule.forFeature([
      { name: WinCommandBatchDoc.name, schema: WinCommandBatchSchema },
      { name: WinCommandDoc.name, schema: WinCommandSchema },
      { name: IdempotencyKeyDoc.name, schema: IdempotencyKeySchema },
    ]),
  ],
  controllers: [CommandsController],
  providers: [
    CommandsRepository,
    CommandsService,
    CommandDeliveryRepository,
    CommandDeliveryService,
    CommandsListener,
  ],
  exports: [CommandsService, CommandDeliveryService],
})
export class CommandsModule {}
