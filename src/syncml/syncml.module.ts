import { Module } from '@nestjs/common';
import { CommandsModule } from '../commands/commands.module';
import { DevicesModule } from '../devices/devices.module';
import { DEVICE_ROUTE } from '../tls/device-listener';
import { ManagementEndpoint } from './management-endpoint';
import { SyncmlController } from './syncml.controller';
import { BUSY_RETRY, DEFAULT_BUSY_RETRY, SyncmlSessionService } from './syncml-session.service';

@Module({
  imports: [DevicesModule, CommandsModule],
  controllers: [SyncmlController],
  providers: [
    SyncmlSessionService,
    ManagementEndpoint,
    // The device listener serves it ahead of Express (decisions.md §44).
    { provide: DEVICE_ROUTE, useExisting: ManagementEndpoint },
    { provide: BUSY_RETRY, useValue: DEFAULT_BUSY_RETRY },
  ],
})
export class SyncmlModule {}
