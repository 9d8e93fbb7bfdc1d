import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { CommandsModule } from '../commands/commands.module';
import { DevicesModule } from '../devices/devices.module';
import { WinDeviceDoc, WinDeviceSchema } from '../devices/win-device.schema';
import { ProfileAssignmentsRepository } from './profile-assignments.repository';
import { ProfileDevicesRepository } from './profile-devices.repository';
import { ProfileLabelsService } from './profile-labels.service';
import { ProfilePlanner } from './profile-planner';
import { ProfilePlansRepository } from './profile-plans.repository';
import { PlanPartitionBackfill } from './plan-partition-backfill';
import { PlanPartitionsRepository } from './plan-partitions.repository';
import { LabelsController, ProfilesController } from './profiles.controller';
import { ProfilesRepository } from './profiles.repository';
import { ProfilesService } from './profiles.service';
import {
  WinProfileAssignmentDoc,
  WinProfileAssignmentSchema,
} from './win-profile-assignment.schema';
import { WinProfilePlanDoc, WinProfilePlanSchema } from './win-profile-plan.schema';
import { WinProfileDoc, WinProfileSchema } from './win-profile.schema';

@Module({
  imports: [
    DevicesModule,
    // The planner cancels the unsent commands of devices a profile stops applying to.
    CommandsModule,
    MongooseModule.forFeature([
      { name: WinProfileDoc.name, schema: WinProfileSchema },
      { name: WinProfileAssignmentDoc.name, schema: WinProfileAssignmentSchema },
      { name: WinProfilePlanDoc.name, schema: WinProfilePlanSchema },
      // Targeting reads device ids and labels (the devices module owns the documents).
      { name: WinDeviceDoc.name, schema: WinDeviceSchema },
    ]),
  ],
  controllers: [ProfilesController, LabelsController],
  providers: [
    ProfilesRepository,
    ProfileAssignmentsRepository,
    ProfilePlansRepository,
    ProfileDevicesRepository,
    ProfilesService,
    ProfileLabelsService,
    ProfilePlanner,
    PlanPartitionsRepository,
    PlanPartitionBackfill,
  ],
  exports: [ProfilesService, ProfilePlanner],
})
export class ProfilesModule {}
