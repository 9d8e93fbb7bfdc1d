import { Controller, HttpCode, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { isStoreUnreachable, STORE_RETRY_AFTER_SECONDS } from '../common/errors';
import { RawResponse } from '../common/http/envelope.interceptor';
import { DEVICE_PROTOCOLS_TAG } from '../common/http/swagger';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { clientIdentity } from '../tls/client-identity';
import { SyncmlSessionService } from './syncml-session.service';
import { MANAGEMENT_PATH, SYNCML_CONTENT_TYPE } from '../common/device-protocol';
import { plain, SyncmlHttpResult } from './syncml-session.types';

/**
 * The OMA-DM management endpoint (MS-MDM). Devices prove who they are with their TLS client
 * certificate, not a bearer token. Query strings (`?mode=Maintenance&Platform=WoA`) are
 * informational: routing is on the path.
 */
@ApiTags(DEVICE_PROTOCOLS_TAG)
@Public()
@RawResponse()
@Controller()
export class SyncmlController {
  private readonly logger = new Logger('SyncmlController');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly session: SyncmlSessionService,
  ) {}

  @Post(MANAGEMENT_PATH)
  @HttpCode(200)
  @ApiOperation({
    summary: 'OMA-DM management session (MS-MDM SyncML 1.2), for Windows devices',
    description:
      'Served on the device HTTPS listener (DEVICE_PORT); the device authenticates with the TLS ' +
      'client certificate it received at enrollment (or that an administrator registered). ' +
      'Every well-formed SyncML message gets 200 with a SyncML answer; protocol problems are ' +
      'Status codes inside it. Query strings such as ?mode=Maintenance&Platform=WoA are accepted.',
  })
  @ApiConsumes(SYNCML_CONTENT_TYPE)
  @ApiProduces(SYNCML_CONTENT_TYPE)
  @ApiBody({ description: 'A SyncML DM 1.2 message', schema: { type: 'string', format: 'xml' } })
  @ApiResponse({
    status: 200,
    description: 'The SyncML answer (Status for SyncHdr first, Statuses, commands, Final)',
  })
  @ApiResponse({
    status: 400,
    description: 'Not SyncML, malformed, DOCTYPE/entity, or too deep: nothing changed',
  })
  @ApiResponse({
    status: 401,
    description: 'No client certificate, or it belongs to no enrolled device',
  })
  @ApiResponse({
    status: 403,
    description: 'SyncHdr Source is not the device the certificate identifies',
  })
  @ApiResponse({
    status: 413,
    description: 'Body over SYNCML_BODY_LIMIT_BYTES (checked before parsing)',
  })
  @ApiResponse({ status: 415, description: `Content-Type is not ${SYNCML_CONTENT_TYPE}` })
  @ApiResponse({
    status: 503,
    description:
      'Another message of this device is being processed, or the store is unreachable; ' +
      'Retry-After. The device resends the same message, which is then processed once.',
  })
  async manage(@Req() req: Request, @Res() res: Response): Promise<void> {
    const result = await this.dispatch(req).catch((e: unknown) => this.unavailable(e));
    res.status(result.status).set('Content-Type', result.contentType);
    if (result.headers) res.set(result.headers);
    // A Buffer body gets an exact Content-Length (no chunking).
    res.send(Buffer.from(result.body, 'utf8'));
  }

  /**
   * A store that cannot be reached leaves the message unprocessed (what was written before the
   * failure is matched again when the device resends it: conditional transitions record a
   * Status once). 503 with Retry-After is a failed exchange Windows retries on its own
   * schedule (management-session.md §1: CONNRETRYFREQ, INITIALBACKOFFTIME).
   */
  private unavailable(e: unknown): SyncmlHttpResult {
    if (!isStoreUnreachable(e)) throw e;
    this.logger.warn(`Store unreachable; SyncML message answered 503: ${(e as Error).message}`);
    return plain(503, 'Service unavailable, retry', {
      'Retry-After': String(STORE_RETRY_AFTER_SECONDS),
    });
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
