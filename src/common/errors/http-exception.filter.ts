import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { resolveRequestId } from '../http/request-logger.middleware';
import { DomainError } from './domain-error';
import { ERROR_HTTP_STATUS, ERROR_MESSAGES, ErrorCode } from './error-codes';
import { isStoreUnreachable, STORE_RETRY_AFTER_SECONDS } from './store-unreachable';

interface ErrorBody {
  status: false;
  error: { code: number; message: string; details?: { field: string; message: string }[] };
}

/** Renders every failure as `{status: false, error: {code, message}}` (DESIGN.md "Errors"). */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const [status, body] = this.render(exception, req);
    if (res.headersSent) return;
    // Failures raised before Nest middleware ran (the body parser's) have no request id yet.
    if (!res.getHeader('X-Request-Id')) {
      res.setHeader('X-Request-Id', resolveRequestId(req.header('x-request-id')));
    }
    // RFC 9110 §10.2.3: with 503, when to try again.
    if (status === 503 && !res.getHeader('Retry-After')) {
      res.setHeader('Retry-After', String(STORE_RETRY_AFTER_SECONDS));
    }
    res.status(status).json(body);
  }

  private render(exception: unknown, req: Request): [number, ErrorBody] {
    if (exception instanceof DomainError) {
      const error: ErrorBody['error'] = { code: exception.code, message: exception.message };
      if (exception.details?.length) error.details = exception.details;
      return [ERROR_HTTP_STATUS[exception.code], { status: false, error }];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = httpStatusToCode(status);
      const message = status === 404 ? 'Route not found' : httpMessage(exception, code);
      const error: ErrorBody['error'] = { code, message };
      if (status === 400) {
        // Nest turns the body parser's SyntaxError (and a bad %-encoding) into a 400: keep
        // DESIGN.md's message and put the parser's text in details.
        error.message = ERROR_MESSAGES[ErrorCode.InvalidData];
        error.details = [{ field: 'request', message }];
      }
      return [status, { status: false, error }];
    }
    if (isStoreUnreachable(exception)) {
      // Expected while the store restarts: one line, no stack; the request may be retried.
      this.logger.warn(
        `Store unreachable on ${req.method} ${req.originalUrl ?? req.url}: ${(exception as Error).message}`,
      );
      const code = ErrorCode.StoreUnavailable;
      return [503, { status: false, error: { code, message: ERROR_MESSAGES[code] } }];
    }
    if (isBodyParserError(exception)) {
      const status = exception.status ?? 400;
      const code = ErrorCode.InvalidData;
      const message = status === 413 ? 'Request body too large' : 'Malformed request body';
      return [status, { status: false, error: { code, message } }];
    }
    this.logger.error(
      `Unhandled error on ${req.method} ${req.originalUrl ?? req.url}`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return [
      500,
      {
        status: false,
        error: { code: ErrorCode.Internal, message: ERROR_MESSAGES[ErrorCode.Internal] },
      },
    ];
  }
}

function httpStatusToCode(status: number): number {
  switch (status) {
    case 401:
      return ErrorCode.InvalidToken;
    case 403:
      return ErrorCode.PermissionDenied;
    case 404:
      return ErrorCode.EntityNotFound;
    case 415:
      return ErrorCode.UnsupportedMediaType;
    case 429:
      return ErrorCode.TooManyRequests;
    case 503:
      return ErrorCode.StoreUnavailable;
    default:
      return status >= 500 ? ErrorCode.Internal : ErrorCode.InvalidData;
  }
}

function httpMessage(exception: HttpException, code: number): string {
  const r = exception.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  if (typeof m === 'string') return m;
  return ERROR_MESSAGES[code as ErrorCode] ?? exception.message;
}

function isBodyParserError(e: unknown): e is { status?: number; type: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { type?: unknown }).type === 'string' &&
    'status' in e
  );
}
