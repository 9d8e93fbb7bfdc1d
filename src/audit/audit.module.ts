import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { OrganizationsModule } from '../organizations/organizations.module';
import { AuditController } from './audit.controller';
import { AuditMiddleware } from './audit.middleware';
import { AuditRecordDoc, AuditRecordSchema } from './audit-record.schema';
import { AuditRecordsRepository } from './audit-records.repository';
import { AuditService } from './audit.service';

/** The audit trail of administrative writes (docs/decisions.md "Audit trail"). */
@Module({
  imports: [
    OrganizationsModule,
    MongooseModule.forFeature([{ name: AuditRecordDoc.name, schema: AuditRecordSchema }]),
  ],
  controllers: [AuditController],
  providers: [AuditRecordsRepository, AuditService, AuditMiddleware],
  exports: [AuditService],
})
export class AuditModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // The admin API only: the device protocols live outside /v1.
    consumer.apply(AuditMiddleware).forRoutes({ path: 'v1/*path', method: RequestMethod.ALL });
  }
}
