import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Observable } from 'rxjs';
import { DomainError, ERROR_MESSAGES, ErrorCode } from '../errors';
import { RAW_RESPONSE } from './envelope.interceptor';

/** A body is on its way: a non-zero Content-Length, or a chunked one (RFC 9112 §6.3). */
function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(length) && length > 0;
}

/**
 * JSON endpoints refuse a body that is not `application/json` with 415 4015. The JSON parser
 * skips other types, so without this the body would vanish and validation would blame its
 * fields. Runs after the guards (authentication answers first) and before validation. Endpoints
 * that read their own body (@RawResponse: SyncML, SOAP) are left alone.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const raw = this.reflector.getAllAndOverride<boolean>(RAW_RESPONSE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const req = context.switchToHttp().getRequest<Request>();
    if (!raw && hasBody(req) && !req.is('application/json')) {
      const type = req.headers['content-type']?.split(';')[0].trim();
      throw new DomainError(
        ErrorCode.UnsupportedMediaType,
        `${ERROR_MESSAGES[ErrorCode.UnsupportedMediaType]} (got ${type || 'none'})`,
      );
    }
    return next.handle();
  }
}
