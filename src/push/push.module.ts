import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { PushService, WNS_CLIENT } from './push.service';
import { WnsClient } from './wns-client';

@Module({
  providers: [
    PushService,
    {
      provide: WNS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new WnsClient(config.push),
    },
  ],
  exports: [PushService],
})
export class PushModule {}
