import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { AuthUser } from '../auth/auth-user';
import { AdminWrite, pathParams } from './admin-write';
import { AuditService } from './audit.service';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Admin answers are small; a larger one is still recorded, without the ids its body names. */
const MAX_PARSED_RESPONSE = 1024 * 1024;
/**
 * How long an answer waits for its record. A reachable store stores it in milliseconds; an
 * unreachable one would hold every write for a whole server-selection timeout.
 */
export const AUDIT_WAIT_MS = 500;

function parseJson(res: Response, chunk: unknown): unknown {
  const type = res.getHeader('content-type');
  if (typeof type !== 'string' || !type.includes('json')) return null;
  const text = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? chunk : null;
  if (text === null || text.length > MAX_PARSED_RESPONSE) return null;
  try {
    return JSON.parse(text.toString()) as unknown;
  } catch {
    return null;
  }
}

/**
 * Records every authenticated write under /v1 (docs/decisions.md "Audit trail"). It holds the
 * response's `end` until the record is stored, the way express-session saves a session:
 * permission denials happen in guards, before any interceptor runs, so only the response sees
 * every outcome; and a caller that got its answer can read the record back at once. It waits
 * at most AUDIT_WAIT_MS, and not at all for a 503: the record is then stored (or its loss
 * logged) in the background.
 */
@Injectable()
export class AuditMiddleware implements NestMiddleware {
  private readonly logger = new Logger('Audit');

  constructor(private readonly audit: AuditService) {}

  use(req: Request & { user?: AuthUser }, res: Response, next: NextFunction): void {
    if (!WRITES.has(req.method)) {
      next();
      return;
    }
    const at = new Date();
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    let ended = false;
    res.end = ((...args: unknown[]) => {
      if (ended) return end(...args);
      ended = true;
      let write: AdminWrite | null = null;
      try {
        write = this.observe(req, res, at, args[0]);
      } catch (e) {
        this.logger.error('Audit: could not read the write', e instanceof Error ? e.stack : e);
      }
      if (!write) return end(...args);
      // record() never rejects: it logs a record it could not store.
      const stored = this.audit.record(write);
      // A 503 says the store is unreachable: its record would only delay the answer.
      if (write.status === 503) return end(...args);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((done) => {
        timer = setTimeout(done, AUDIT_WAIT_MS);
      });
      void Promise.race([stored, late]).finally(() => {
        clearTimeout(timer);
        end(...args);
      });
      return res;
    }) as Response['end'];
    next();
  }

  /**
   * Null when the write is not attributable: no verified token (4002/4004, or no route, which
   * no guard ran for). Recording those would let anyone fill the store anonymously.
   */
  private observe(
    req: Request & { user?: AuthUser },
    res: Response,
    at: Date,
    chunk: unknown,
  ): AdminWrite | null {
    const route = (req.route as { path?: unknown } | undefined)?.path;
    if (!req.user || typeof route !== 'string') return null;
    const requestId = res.getHeader('X-Request-Id');
    return {
      user: req.user,
      method: req.method,
      route: `${req.baseUrl ?? ''}${route}`,
      params: pathParams(req.params ?? {}),
      requestBody: req.body as unknown,
      status: res.statusCode,
      responseBody: parseJson(res, chunk),
      requestId: typeof requestId === 'string' ? requestId : null,
      at,
    };
  }
}
