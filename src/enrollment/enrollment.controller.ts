import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { raw } from 'express';
import { clientIdentity } from '../tls/client-identity';
import { randomUUID } from 'node:crypto';
import { Public } from '../auth/auth.decorators';
import { DISCOVERY_PATH, ENROLLMENT_SERVICE_PATH, POLICY_PATH } from '../common/device-protocol';
import { STORE_RETRY_AFTER_SECONDS } from '../common/errors';
import { RawResponse } from '../common/http/envelope.interceptor';
import { DEVICE_PROTOCOLS_TAG } from '../common/http/swagger';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { enrollmentClientAddress } from './client-address';
import { EnrollmentSoapService, SoapCallContext, SoapReply } from './enrollment-soap.service';
import { EnrollmentErrorType } from './soap';

type SoapRequest = Request & { id?: string; soapBodyError?: unknown };

/**
 * The body of every /EnrollmentServer request, raw and capped, whatever its Content-Type
 * (Windows sends application/soap+xml). An oversize body is not an Express error here: the
 * handler answers it with a SOAP MessageFormat fault, which is what the client understands.
 */
export function soapBodyParser(limitBytes: number): RequestHandler {
  const parse = raw({ type: () => true, limit: limitBytes });
  return (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      if (err) {
        (req as SoapRequest).soapBodyError = err;
        req.body = undefined;
      }
      next();
    });
  };
}

const SOAP = 'application/soap+xml';
const SOAP_BODY = { description: 'A SOAP 1.2 envelope', schema: { type: 'string', format: 'xml' } };
const FAULTS =
  'A SOAP fault (HTTP 500 by default, ENROLLMENT_FAULT_HTTP_STATUS): s:MessageFormat (unreadable, ' +
  'DOCTYPE/entity, oversized), a:InvalidSecurity, s:Authentication (wrong secret or invitation), ' +
  's:Authorization (unknown e-mail domain; a device id enrolled by another user), ' +
  's:CertificateRequest (CSR refused), ' +
  'a:InternalServiceFault; Detail/DeviceEnrollmentServiceError/TraceId = X-Request-Id. While the ' +
  'store is unreachable: a:InternalServiceFault with ErrorType InMaintenance, HTTP 503 and ' +
  'Retry-After (200 if ENROLLMENT_FAULT_HTTP_STATUS=200)';

/**
 * MS-MDE2 enrollment (enrollment.md §3-5): discovery, policy and enrollment, SOAP 1.2 over the
 * device listener. Public: the device has no token yet; the RST carries its own credential.
 */
@ApiTags(DEVICE_PROTOCOLS_TAG)
@Public()
@RawResponse()
@Controller()
export class EnrollmentController {
  constructor(
    private readonly soap: EnrollmentSoapService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** §3.1: the probe gets 200 with an empty body. */
  @Get(DISCOVERY_PATH)
  @ApiOperation({ summary: 'Enrollment discovery probe (MS-MDE2): 200 with an empty body' })
  @ApiResponse({ status: 200, description: 'Empty body, Content-Length: 0' })
  probe(@Res() res: Response): void {
    res
      .status(200)
      .set('Content-Type', 'text/html; charset=utf-8')
      .set('Cache-Control', 'no-cache');
    res.send(Buffer.alloc(0));
  }

  @Post(DISCOVERY_PATH)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Enrollment discovery (MS-MDE2 Discover), for Windows devices',
    description:
      'Unauthenticated. Answers AuthPolicy OnPremise, EnrollmentVersion 4.0 and the policy and ' +
      'enrollment URLs on PUBLIC_BASE_URL, whatever the RequestVersion.',
  })
  @ApiConsumes(SOAP)
  @ApiProduces(SOAP)
  @ApiBody(SOAP_BODY)
  @ApiResponse({ status: 200, description: 'DiscoverResponse' })
  @ApiResponse({ status: 500, description: FAULTS })
  async discover(@Req() req: SoapRequest, @Res() res: Response): Promise<void> {
    this.send(res, await this.soap.discover(body(req), this.context(req)));
  }

  @Post(POLICY_PATH)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Certificate enrollment policy (MS-XCEP GetPolicies), for Windows devices',
    description:
      'WS-Security UsernameToken: the user e-mail and the enterprise enrollment secret or a ' +
      'one-time invitation token (checked, not consumed).',
  })
  @ApiConsumes(SOAP)
  @ApiProduces(SOAP)
  @ApiBody(SOAP_BODY)
  @ApiResponse({ status: 200, description: 'GetPoliciesResponse (RSA 2048+, SHA-256)' })
  @ApiResponse({ status: 500, description: FAULTS })
  async policy(@Req() req: SoapRequest, @Res() res: Response): Promise<void> {
    this.send(res, await this.soap.getPolicies(body(req), this.context(req)));
  }

  @Post(ENROLLMENT_SERVICE_PATH)
  @HttpCode(200)
  @ApiOperation({
    summary: 'Device enrollment (MS-WSTEP RequestSecurityToken), for Windows devices',
    description:
      'Authenticates like the policy service (an invitation is consumed here), verifies the PKCS#10, ' +
      'issues the client certificate from the enterprise CA, creates or re-enrolls the device and ' +
      'answers with the wap-provisioningdoc (CA, client certificate, w7 APPLICATION, DMClient).',
  })
  @ApiConsumes(SOAP)
  @ApiProduces(SOAP)
  @ApiBody(SOAP_BODY)
  @ApiResponse({ status: 200, description: 'RequestSecurityTokenResponseCollection' })
  @ApiResponse({ status: 500, description: FAULTS })
  async enroll(@Req() req: SoapRequest, @Res() res: Response): Promise<void> {
    this.send(res, await this.soap.requestSecurityToken(body(req), this.context(req)));
  }

  /** One Buffer: Express sets Content-Length, never chunked (enrollment.md §1). */
  private send(res: Response, reply: SoapReply): void {
    let status = reply.status;
    // The store-unreachable fault (enrollment-fault.ts) is a 5xx that may be retried: 503 with
    // Retry-After, unless faults are configured to travel with 200 (Fleet's convention).
    if (status === 500 && isStoreUnavailableFault(reply)) {
      status = 503;
      res.set('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
    }
    res.status(status).set('Content-Type', reply.contentType).set('Cache-Control', 'no-store');
    res.send(Buffer.from(reply.body, 'utf8'));
  }

  private context(req: SoapRequest): SoapCallContext {
    return {
      requestId: req.id ?? randomUUID(),
      sourceIp: enrollmentClientAddress(
        req.socket.remoteAddress,
        req.headers['x-forwarded-for'],
        this.config.device.trustedProxies,
      ),
      now: new Date(),
      clientCertificate: clientIdentity(req, this.config.device),
    };
  }
}

function body(req: SoapRequest): Buffer | undefined {
  return !req.soapBodyError && Buffer.isBuffer(req.body) ? req.body : undefined;
}

// Only classifyFailure puts this ErrorType in a fault, for a store that cannot be reached; the
// request cannot choose it.
const STORE_UNAVAILABLE_ERROR_TYPE = `<ErrorType>${EnrollmentErrorType.InMaintenance}</ErrorType>`;

function isStoreUnavailableFault(reply: SoapReply): boolean {
  return reply.body.includes(STORE_UNAVAILABLE_ERROR_TYPE);
}
