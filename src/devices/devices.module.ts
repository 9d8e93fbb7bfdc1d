import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { OrganizationsModule } from '../organizations/organizations.module';
import { DevicesController, EnterpriseController } from './devices.controller';
import { DevicesService } from './devices.service';
import { WinDeviceDoc, WinDeviceSchema } from './win-device.schema';
import { WinDevicesRepository } from './win-devices.repository';
import { WinEnterpriseDoc, WinEnterpriseSchema } from './win-enterprise.schema';
import { WinEnterprisesRepository } from './win-enterprises.repository';

@Module({
  imports: [
    OrganizationsModule,
    MongooseModule.forFeature([
      { name: WinEnterpriseDoc.name, schema: WinEnterpriseSchema },
      { name: WinDeviceDoc.name, schema: WinDeviceSchema },
    ]),
  ],
  controllers: [EnterpriseController, DevicesController],
  providers: [DevicesService, WinEnterprisesRepository, WinDevicesRepository],
  exports: [DevicesService],
})
export class DevicesModule {}
