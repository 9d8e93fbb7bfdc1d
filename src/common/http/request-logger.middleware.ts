import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** One structured line per request: method, route, status, duration, request id. */
@Injectable()
export class RequestLoggerMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    const incoming = req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    (req as Request & { id: string }).id = requestId;
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
