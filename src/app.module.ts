import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { MongooseModule, MongooseModuleOptions } from '@nestjs/mongoose';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CommandsModule } from './commands/commands.module';
import { ReadPoolModule } from './common/mongo/read-pool';
import { GlobalExceptionFilter } from './common/errors/http-exception.filter';
import { EnvelopeInterceptor } from './common/http/envelope.interceptor';
import { RequestLoggerMiddleware } from './common/http/request-logger.middleware';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DevicesModule } from './devices/devices.module';
import { EnrollmentModule } from './enrollment/enrollment.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { OrganizationsModule } from './organizations/organizations.module';
import { ProfilesModule } from './profiles/profiles.module';
import { ReconcileModule } from './profiles/reconcile.module';
import { SyncmlModule } from './syncml/syncml.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({})
export class AppModule implements NestModule {
  static forRoot(
    config: AppConfig,
    mongoUri: string,
    mongoOptions: MongooseModuleOptions = {},
  ): DynamicModule {
    const driverOptions: MongooseModuleOptions = {
      // An unreachable store fails an operation within this bound (rendered 503 5003 with
      // Retry-After) instead of hanging the request; the driver keeps reconnecting meanwhile.
      serverSelectionTimeoutMS: config.store.serverSelectionTimeoutMs,
      // Mongoose would otherwise hold operations up to 10 s while disconnected, then fail
      // with its own buffering error: the driver's bounded server selection answers sooner.
      bufferCommands: false,
    };
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        MongooseModule.forRoot(mongoUri, {
          ...driverOptions,
          // Indexes are part of the contract (uniqueness of cmdId, deviceId): build them at boot.
          autoIndex: true,
          ...mongoOptions,
        }),
        // Reads that cannot race a conditional update, beside the embedded FerretDB's single
        // connection (decisions.md §45); on MongoDB, the same pool.
        ReadPoolModule.forRoot(mongoUri, { ...driverOptions, ...mongoOptions }),
        EventEmitterModule.forRoot({ wildcard: false, ignoreErrors: false }),
        EventsModule,
        AuthModule,
        HealthModule,
        OrganizationsModule,
        DevicesModule,
        CommandsModule,
        ProfilesModule,
        SyncmlModule,
        EnrollmentModule,
        AuditModule,
        WebhooksModule,
        ReconcileModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: GlobalExceptionFilter },
        { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLoggerMiddleware).forRoutes('*path');
  }
}
