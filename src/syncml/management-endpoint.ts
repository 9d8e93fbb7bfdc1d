import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ERROR_MESSAGES,
  ErrorCode,
  isStoreUnreachable,
  STORE_RETRY_AFTER_SECONDS,
} from '../common/errors';
import { BodyReadError, syncmlBodyReader } from '../common/http/body-parsers';
import { requestLogLine, resolveRequestId } from '../common/http/request-logger.middleware';
import { MANAGEMENT_PATH, SYNCML_CONTENT_TYPE } from '../common/device-protocol';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { clientIdentity } from '../tls/client-identity';
import type { DeviceRoute } from '../tls/device-listener';
import { Admission, SessionGate } from './session-gate';
import { SyncmlSessionService } from './syncml-session.service';
import { plain, SyncmlHttpResult } from './syncml-session.types';

/** The path as Express routed it: any case, one optional trailing slash (strict: false). */
const MANAGEMENT_PATH_LC = MANAGEMENT_PATH.toLowerCase();
const MANAGEMENT_PATH_SLASH = `${MANAGEMENT_PATH_LC}/`;

/** 503 with Retry-After: the message was not (fully) processed, and the device resends it. */
function unavailable(): SyncmlHttpResult {
  return plain(503, 'Service unavailable, retry', {
    'Retry-After': String(STORE_RETRY_AFTER_SECONDS),
  });
}

/**
 * The OMA-DM management endpoint (MS-MDM) as a plain node handler on the device listener
 * (decisions.md §44): every check-in of every device comes here, and Express's router, Nest's
 * pipeline (guards, interceptors, rxjs) and `res.send` cost the main thread more than the idle
 * check-in itself. It answers as that pipeline did, middleware by middleware: the body reader
 * (Content-Encoding, SYNCML_BODY_LIMIT_BYTES; refusals in plain text before any request id),
 * the request id and request log line, the Content-Type check, the session, and the global
 * filter's JSON 500 for an unexpected failure. SyncmlController keeps the OpenAPI description
 * and answers through `answer` too.
 */
@Injectable()
export class ManagementEndpoint implements DeviceRoute {
  private readonly logger = new Logger('SyncmlController');
  private readonly httpLogger = new Logger('HTTP');
  private readonly errorLogger = new Logger('Errors');
  /** Public for the admission tests, which wait for a message to be queued. */
  readonly gate: SessionGate;
  private lastBusyLog = 0;
  private readonly readBody: (
    req: IncomingMessage,
    res: ServerResponse,
  ) => Promise<Buffer | undefined>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly session: SyncmlSessionService,
  ) {
    this.readBody = syncmlBodyReader(config.syncml.bodyLimitBytes);
    const { maxConcurrent, maxQueued, maxQueueWaitMs } = config.syncml;
    this.gate = new SessionGate({
      concurrent: maxConcurrent,
      queued: maxQueued,
      maxWaitMs: maxQueueWaitMs,
    });
  }

  /** POST to the management path, as the Express route matched it (query string aside). */
  matches(req: IncomingMessage): boolean {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).toLowerCase();
    return path === MANAGEMENT_PATH_LC || path === MANAGEMENT_PATH_SLASH;
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    this.readBody(req, res)
      .then(
        (body) => this.afterBody(req, res, body, started),
        (e: unknown) => {
          if (!(e instanceof BodyReadError)) return this.failed(req, res, e);
          // Refused by the reader: answered before the request id existed, as before.
          send(res, plain(e.status, e.message));
        },
      )
      // Nothing may escape as an unhandled rejection: it would end the process.
      .catch((e: unknown) => this.failed(req, res, e));
  }

  /**
   * The answer to a message whose body has been read. A store that cannot be reached leaves
   * the message unprocessed (what was written before the failure is matched again when the
   * device resends it: conditional transitions record a Status once). 503 with Retry-After is a
   * failed exchange Windows retries on its own schedule (management-session.md §1:
   * CONNRETRYFREQ, INITIALBACKOFFTIME).
   */
  async answer(req: IncomingMessage, body: unknown): Promise<SyncmlHttpResult> {
    try {
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== SYNCML_CONTENT_TYPE)
        return plain(415, `Content-Type must be ${SYNCML_CONTENT_TYPE}`);
      if (!Buffer.isBuffer(body)) return plain(400, 'Empty body');
      const identity = clientIdentity(req, this.config.device);
      const admission = await this.admit(req);
      if (!admission.admitted) return this.busy();
      try {
        return await this.withinDeadline(this.session.handle(body, identity), identity?.thumbprint);
      } finally {
        admission.release();
      }
    } catch (e) {
      if (!isStoreUnreachable(e)) throw e;
      this.logger.warn(`Store unreachable; SyncML message answered 503: ${(e as Error).message}`);
      return unavailable();
    }
  }

  /**
   * The session's answer, or 503 with Retry-After once SYNCML_MESSAGE_DEADLINE_SECONDS have
   * passed (decisions.md §50). The MongoDB driver (6.20) can leave a command pending for good:
   * written while the store's connection was closing, it waits for a 'drain' that a destroyed
   * socket never emits, and no error reaches it. A message stuck on one would hold its place in
   * the gate forever. Answered 503, the device resends the same message later (what was written
   * is matched again, as after any unreachable store); the stuck work is left, and whatever it
   * ends with is only logged.
   */
  private async withinDeadline(
    work: Promise<SyncmlHttpResult>,
    thumbprint: string | undefined,
  ): Promise<SyncmlHttpResult> {
    const ms = this.config.syncml.messageDeadlineMs;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    });
    try {
      const answer = await Promise.race([work, late]);
      if (answer) return answer;
    } finally {
      clearTimeout(timer);
    }
    work.catch((e: unknown) =>
      this.logger.warn(`A message given up after the deadline failed later: ${String(e)}`),
    );
    this.logger.error(
      `Message of the device with certificate ${thumbprint ?? '(none)'} not answered within ${ms / 1000} s ` +
        '(a store call that never settled): answered 503, its place in the gate given back',
    );
    return unavailable();
  }

  /** The gate's answer; the wait ends early when the device's connection closes. */
  private async admit(req: IncomingMessage): Promise<Admission> {
    const hungUp = new AbortController();
    const socket = req.socket;
    if (socket.destroyed) hungUp.abort();
    const onClose = () => hungUp.abort();
    socket.once('close', onClose);
    try {
      return await this.gate.enter(hungUp.signal);
    } finally {
      socket.removeListener('close', onClose);
    }
  }

  /**
   * 429 with Retry-After (management-session.md §1: load shedding); the message was not read,
   * so the device's retry finds everything as it left it. One warning per 10 s at most, with
   * the refusals since the last one.
   */
  private busy(): SyncmlHttpResult {
    const now = Date.now();
    if (now - this.lastBusyLog >= 10_000) {
      this.lastBusyLog = now;
      const r = this.gate.takeRefused();
      this.logger.warn(
        `Busy: refused ${r.full} SyncML message(s) with the queue full and ${r.waited} that waited ` +
          `${this.config.syncml.maxQueueWaitMs / 1000} s; dropped ${r.gone} whose device hung up ` +
          `(in flight ${this.gate.inFlight}, queued ${this.gate.queued})`,
      );
    }
    return plain(429, 'Busy, retry later', {
      'Retry-After': String(this.config.syncml.busyRetryAfterSeconds),
    });
  }

  private async afterBody(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | undefined,
    started: bigint,
  ): Promise<void> {
    // RequestLoggerMiddleware's part: the id on every answer, the line when LOG_REQUESTS is on.
    const requestId = resolveRequestId(header(req, 'x-request-id'));
    res.setHeader('X-Request-Id', requestId);
    if (this.config.logRequests) {
      res.once('finish', () =>
        this.httpLogger.log(
          requestLogLine({
            method: req.method,
            route: MANAGEMENT_PATH,
            path: (req.url ?? '').split('?')[0],
            status: res.statusCode,
            started,
            requestId,
          }),
        ),
      );
    }
    let result: SyncmlHttpResult;
    try {
      result = await this.answer(req, body);
    } catch (e) {
      return this.failed(req, res, e);
    }
    send(res, result);
  }

  /** GlobalExceptionFilter's answer to anything unknown: logged with its stack, JSON 500. */
  private failed(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    this.errorLogger.error(
      `Unhandled error on ${req.method} ${req.url}`,
      e instanceof Error ? e.stack : String(e),
    );
    if (res.headersSent) return;
    const code = ErrorCode.Internal;
    const json = JSON.stringify({ status: false, error: { code, message: ERROR_MESSAGES[code] } });
    send(res, { status: 500, body: json, contentType: 'application/json; charset=utf-8' });
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * What Express's `res.status().set(Content-Type).send(Buffer)` sent, minus its ETag (a
 * validator for a POST's answer that no device or cache uses): an exact Content-Length, no
 * chunking. Express 5 appends `; charset=utf-8` to a Content-Type without one. The body goes
 * to `end` as a string: node then writes head and body as one chunk (one TLS write), where a
 * Buffer is written after the head with writev.
 */
function send(res: ServerResponse, result: SyncmlHttpResult): void {
  res.statusCode = result.status;
  const type = result.contentType;
  res.setHeader('Content-Type', type.includes('charset=') ? type : `${type}; charset=utf-8`);
  if (result.headers) for (const [k, v] of Object.entries(result.headers)) res.setHeader(k, v);
  res.setHeader('Content-Length', Buffer.byteLength(result.body, 'utf8'));
  res.end(result.body, 'utf8');
}
