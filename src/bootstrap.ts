import { INestApplication, Logger, LogLevel } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import { MongooseModuleOptions } from '@nestjs/mongoose';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { createValidationPipe } from './common/http/validation';
import { JsonBodyInterceptor } from './common/http/json-body.interceptor';
import { setupSwagger } from './swagger';
import { soapBodyParser } from './enrollment/enrollment.controller';
import { ENROLLMENT_PATH, MANAGEMENT_PATH } from './common/device-protocol';
import { jsonBodyParser, syncmlBodyParser } from './common/http/body-parsers';
import { JSON_MAX_ENTRIES } from './common/http/json-guard';
import { deviceProtocolsOnDeviceListenerOnly } from './tls/device-listener';

export interface CreateAppOptions {
  logger?: LogLevel[] | false;
  /** Extra driver options, e.g. `{ monitorCommands: true }` for counting round trips. */
  mongo?: MongooseModuleOptions;
}

/** Builds the configured Nest application (shared by main.ts, e2e tests and benchmarks). */
export async function createApp(
  config: AppConfig,
  mongoUri: string,
  opts: CreateAppOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, mongoUri, opts.mongo),
    {
      logger: opts.logger ?? ['log', 'warn', 'error'],
      bodyParser: false,
    },
  );
  // The device protocols answer on the device listener only, before any body is read.
  app.use(deviceProtocolsOnDeviceListenerOnly);
  // The management endpoint reads its body raw, with a hard cap, before any parsing (§6).
  // A corrupt, oversized or unsupported Content-Encoding is answered there in plain text.
  app.use(MANAGEMENT_PATH, syncmlBodyParser(config.syncml.bodyLimitBytes));
  // So do the enrollment SOAP services (MS-MDE2), whose requests are a few KB.
  app.use(ENROLLMENT_PATH, soapBodyParser(config.enrollment.bodyLimitBytes));
  // The REST API's JSON: depth, size and prototype keys are refused before anything reads it.
  app.use(
    jsonBodyParser(config.bodyLimit, {
      maxDepth: config.jsonMaxDepth,
      maxEntries: JSON_MAX_ENTRIES,
    }),
  );
  app.set('trust proxy', false);
  app.disable('x-powered-by');
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(new JsonBodyInterceptor(app.get(Reflector)));
  setupSwagger(app, config);
  return app;
}

export const bootstrapLogger = new Logger('Bootstrap');
