import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Request-Id when it is well-formed, else a fresh UUID. */
export function resolveRequestId(incoming: string | undefined): string {
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
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
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (req.route as { path?: string } | undefined)?.path;
      this.logger.log(
        JSON.stringify({
          msg: 'request',
          method: req.method,
          route: route ? `${req.baseUrl ?? ''}${route}` : req.path,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          durationMs: Math.round(ms * 100) / 100,
          requestId,
        }),
      );
    });
    next();
  }
}
