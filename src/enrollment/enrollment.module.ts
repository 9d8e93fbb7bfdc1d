import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { DevicesModule } from '../devices/devices.module';
import { EnrollmentAdminController } from './enrollment-admin.controller';
import { EnrollmentAdminService } from './enrollment-admin.service';
import { EnrollmentAuthService } from './enrollment-auth.service';
import { EnrollmentController } from './enrollment.controller';
import { EnrollmentRepository } from './enrollment.repository';
import {
  EnrollmentInvitationDoc,
  EnrollmentInvitationSchema,
} from './enrollment-invitation.schema';
import { EnrollmentRenewalService } from './enrollment-renewal.service';
import { EnrollmentSoapService } from './enrollment-soap.service';

@Module({
  imports: [
    DevicesModule,
    MongooseModule.forFeature([
      { name: EnrollmentInvitationDoc.name, schema: EnrollmentInvitationSchema },
    ]),
  ],
  controllers: [EnrollmentController, EnrollmentAdminController],
  providers: [
    EnrollmentRepository,
    EnrollmentAuthService,
    EnrollmentAdminService,
    EnrollmentSoapService,
    EnrollmentRenewalService,
  ],
})
export class EnrollmentModule {}
