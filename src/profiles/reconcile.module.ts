import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CommandsModule } from '../commands/commands.module';
import { DevicesModule } from '../devices/devices.module';
import { WinDeviceDoc, WinDeviceSchema } from '../devices/win-device.schema';
import { ProfileAssignmentsRepository } from './profile-assignments.repository';
import { ProfileStatusController } from './profile-status.controller';
import { ProfileStatusService } from './profile-status.service';
import { ProfilesRepository } from './profiles.repository';
import { ReconcileRepository } from './reconcile.repository';
import { ReconcileService } from './reconcile.service';
import { ReconcileWorker } from './reconcile.worker';
import {
  WinProfileAssignmentDoc,
  WinProfileAssignmentSchema,
} from './win-profile-assignment.schema';
import { WinProfileDoc, WinProfileSchema } from './win-profile.schema';

/**
 * Profiles from assignment to verified state: delivery through the device's command queue,
 * verification and drift checks, and the status read endpoints. Depends on commands (never the
 * reverse: commands reports outcomes through CommandOutcomeHooks).
 */
@Module({
  imports: [
    CommandsModule,
    DevicesModule,
    MongooseModule.forFeature([
      { name: WinProfileDoc.name, schema: WinProfileSchema },
      { name: WinProfileAssignmentDoc.name, schema: WinProfileAssignmentSchema },
      { name: WinDeviceDoc.name, schema: WinDeviceSchema },
    ]),
  ],
  controllers: [ProfileStatusController],
  providers: [
    ProfilesRepository,
    ProfileAssignmentsRepository,
    ReconcileRepository,
    ReconcileService,
    ReconcileWorker,
    ProfileStatusService,
  ],
  exports: [ReconcileService],
})
export class ReconcileModule {}
