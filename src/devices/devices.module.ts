import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { OrganizationsModule } from '../organizations/organizations.module';
import { PushModule } from '../push/push.module';
import { DeviceCertificateDoc, DeviceCertificateSchema } from './device-certificate.schema';
import { DeviceCertificatesRepository } from './device-certificates.repository';
import { DeviceEventDoc, DeviceEventSchema } from './device-event.schema';
import { MdmUserDoc, MdmUserSchema } from './mdm-user.schema';
import { MdmUsersRepository } from './mdm-users.repository';
import { DevicesController, EnterpriseController } from './devices.controller';
import { DeviceCheckinsRepository } from './device-checkins.repository';
import { DeviceEnrollmentService } from './device-enrollment.service';
import { DeviceCheckinService } from './device-checkin.service';
import { EnterpriseCaService } from './enterprise-ca.service';
import { DevicesService } from './devices.service';
import { TargetCountDoc, TargetCountSchema } from './target-count.schema';
import { TargetCountsRepository } from './target-counts.repository';
import { TargetCountsService } from './target-counts.service';
import { WinDeviceDoc, WinDeviceSchema } from './win-device.schema';
import { WinDevicesRepository } from './win-devices.repository';
import { WinEnterpriseDoc, WinEnterpriseSchema } from './win-enterprise.schema';
import { WinEnterprisesRepository } from './win-enterprises.repository';

@Module({
  imports: [
    OrganizationsModule,
    PushModule,
    MongooseModule.forFeature([
      { name: WinEnterpriseDoc.name, schema: WinEnterpriseSchema },
      { name: WinDeviceDoc.name, schema: WinDeviceSchema },
      { name: DeviceEventDoc.name, schema: DeviceEventSchema },
      { name: DeviceCertificateDoc.name, schema: DeviceCertificateSchema },
      { name: MdmUserDoc.name, schema: MdmUserSchema },
      { name: TargetCountDoc.name, schema: TargetCountSchema },
    ]),
  ],
  controllers: [EnterpriseController, DevicesController],
  providers: [
    DevicesService,
    DeviceCheckinService,
    DeviceCheckinsRepository,
    DeviceCertificatesRepository,
    MdmUsersRepository,
    DeviceEnrollmentService,
    EnterpriseCaService,
    WinEnterprisesRepository,
    WinDevicesRepository,
    TargetCountsRepository,
    TargetCountsService,
  ],
  exports: [DevicesService, DeviceCheckinService, DeviceEnrollmentService, TargetCountsService],
})
export class DevicesModule {}
