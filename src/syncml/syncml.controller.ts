import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
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
import { RawResponse } from '../common/http/envelope.interceptor';
import { DEVICE_PROTOCOLS_TAG } from '../common/http/swagger';
import { ManagementEndpoint } from './management-endpoint';
import { MANAGEMENT_PATH, SYNCML_CONTENT_TYPE } from '../common/device-protocol';

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
  constructor(private readonly endpoint: ManagementEndpoint) {}

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
    // Devices reach ManagementEndpoint.serve on the device listener, ahead of Express; this
    // route documents the endpoint and answers the same way should a request get here.
    const result = await this.endpoint.answer(req, req.body);
    res.status(result.status).set('Content-Type', result.contentType);
    if (result.headers) res.set(result.headers);
    // A Buffer body gets an exact Content-Length (no chunking).
    res.send(Buffer.from(result.body, 'utf8'));
  }
}
