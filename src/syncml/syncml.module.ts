import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module';
import { DevicesModule } from '../devices/devices.module';
import { SyncmlController } from './syncml.controller';
import { SyncmlSessionService } from './syncml-session.service';

@Module({
  imports: [DevicesModule, CommandsModule],
  controllers: [SyncmlController],
  providers: [SyncmlSessionService],
})
export class SyncmlModule {}
