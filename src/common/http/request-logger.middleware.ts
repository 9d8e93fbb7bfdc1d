import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Request-Id when it is well-formed, else a fresh UUID. */
export function resolveRequestId(incoming: string | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** The request line's JSON, for this middleware and handlers outside Express. */
export function requestLogLine(o: {
  method: string | undefined;
  route: string;
  path: string;
  status: number;
  /** process.hrtime.bigint() when the request came in. */
  started: bigint;
  requestId: string;
}): string {
  const ms = Number(process.hrtime.bigint() - o.started) / 1e6;
  return JSON.stringify({
    msg: 'request',
    method: o.method,
    route: o.route,
    path: o.path,
    status: o.status,
    durationMs: Math.round(ms * 100) / 100,
    requestId: o.requestId,
  });
}

/**
 * One structured line per request: method, route, status, duration, request id. The request id
 * is always set; the line is written only when LOG_REQUESTS is on (config.logRequests).
 */
@Injectable()
export class RequestLoggerMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    const incoming = req.header('x-request-id');
    const requestId = resolveRequestId(incoming);
    res.setHeader('X-Request-Id', requestId);
    (req as Request & { id: string }).id = requestId;
    if (!this.config.logRequests) {
      next();
      return;
    }
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      this.logger.log(
        requestLogLine({
          method: req.method,
          route: route ? `${req.baseUrl ?? ''}${route}` : req.path,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          started,
          requestId,
        }),
      );
    });
    next();
  }
}
