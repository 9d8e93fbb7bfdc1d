import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { RawResponse } from '../common/http/envelope.interceptor';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { clientIdentity } from './client-identity';
import { SyncmlSessionService } from './syncml-session.service';
import { plain, SYNCML_CONTENT_TYPE, SyncmlHttpResult } from './syncml-session.types';

export const MANAGEMENT_PATH = '/ManagementServer/MDM.svc';

/**
 * The OMA-DM management endpoint (MS-MDM). Devices prove who they are with their TLS client
 * certificate, not a bearer token. Query strings (`?mode=Maintenance&Platform=WoA`) are
 * informational: routing is on the path.
 */
@ApiExcludeController()
@Public()
@RawResponse()
@Controller('ManagementServer')
export class SyncmlController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly session: SyncmlSessionService,
  ) {}

  @Post('MDM.svc')
  @HttpCode(200)
  async manage(@Req() req: Request, @Res() res: Response): Promise<void> {
    const result = await this.dispatch(req);
    res.status(result.status).set('Content-Type', result.contentType);
    if (result.headers) res.set(result.headers);
    // A Buffer body gets an exact Content-Length (no chunking).
    res.send(Buffer.from(result.body, 'utf8'));
  }

  private async dispatch(req: Request): Promise<SyncmlHttpResult> {
    const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== SYNCML_CONTENT_TYPE)
      return plain(415, `Content-Type must be ${SYNCML_CONTENT_TYPE}`);
    if (!Buffer.isBuffer(req.body)) return plain(400, 'Empty body');
    const identity = clientIdentity(req, this.config.device);
    return this.session.handle(req.body, identity);
  }
}
