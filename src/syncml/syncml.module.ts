import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module';
import { DevicesModule } from '../devices/devices.module';
import { SyncmlController } from './syncml.controller';
import { BUSY_RETRY, DEFAULT_BUSY_RETRY, SyncmlSessionService } from './syncml-session.service';

@Module({
  imports: [DevicesModule, CommandsModule],
  controllers: [SyncmlController],
  providers: [SyncmlSessionService, { provide: BUSY_RETRY, useValue: DEFAULT_BUSY_RETRY }],
})
export class SyncmlModule {}
