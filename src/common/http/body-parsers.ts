import { Logger } from '@nestjs/common';
import { raw } from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError, ErrorCode, invalidData } from '../errors';
import { forbiddenKeys, JsonLimits, scanJsonText } from './json-guard';

/** RFC 9110 §8.4.1 codings this server decodes; anything else (and any list of them) is 415. */
const SUPPORTED_ENCODINGS = ['identity', 'gzip', 'deflate', 'br'];
const SUPPORTED_TEXT = 'gzip, deflate, br or identity';

export type BodyFailureKind = 'malformed' | 'too-large' | 'unsupported-encoding';

/**
 * A body that could not be read: a corrupt or truncated compressed stream, one over the limit,
 * an unsupported coding. `type` and `status` are what the global filter renders body-parser
 * failures from (400/413, code 5091), so it needs no case of its own.
 */
export class BodyReadError extends Error {
  readonly type: string;
  constructor(
    readonly kind: BodyFailureKind,
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'BodyReadError';
    this.type = `body.${kind}`;
  }
}

const logger = new Logger('Http');

/** The client's mistake, not ours: one warn line, never an error with a stack. */
function warn(req: Request, what: string): void {
  logger.warn(`${req.method} ${req.originalUrl ?? req.url}: body refused (${what})`);
}

function unsupportedEncoding(req: Request): BodyReadError | null {
  const coding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (SUPPORTED_ENCODINGS.includes(coding)) return null;
  return new BodyReadError(
    'unsupported-encoding',
    415,
    `Content-Encoding must be ${SUPPORTED_TEXT} (got ${coding})`,
  );
}

/** body-parser's and zlib's errors, by what they mean for the client. */
function classify(err: unknown): BodyReadError {
  const status = (err as { status?: unknown } | null)?.status;
  if (status === 413) return new BodyReadError('too-large', 413, 'Request body too large');
  if (status === 415) {
    return new BodyReadError(
      'unsupported-encoding',
      415,
      `Content-Encoding must be ${SUPPORTED_TEXT}`,
    );
  }
  // A corrupt or truncated gzip/deflate/br stream (zlib's error, without a status of its own),
  // a body shorter than its Content-Length, a client that went away.
  return new BodyReadError('malformed', 400, 'Malformed request body');
}

/**
 * Reads the whole body into a Buffer (decoding Content-Encoding) under `limit`, and hands any
 * failure to `refuse` as a BodyReadError. The limit applies to the decoded bytes, so a small
 * gzip that inflates beyond it is refused too.
 */
function rawReader(
  limit: number | string,
  refuse: (e: BodyReadError, req: Request, res: Response, next: NextFunction) => void,
): RequestHandler {
  const read = raw({ type: () => true, limit });
  return (req, res, next) => {
    const unsupported = unsupportedEncoding(req);
    if (unsupported) {
      warn(req, unsupported.message);
      // Read off what was sent so the connection stays usable for the answer.
      req.resume();
      return refuse(unsupported, req, res, next);
    }
    read(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = classify(err);
      warn(req, `${e.message}: ${err instanceof Error ? err.message : String(err)}`);
      req.body = undefined;
      refuse(e, req, res, next);
    });
  };
}

/**
 * The SyncML endpoint's reader: failures are answered here in plain text, like every other
 * refusal of the management endpoint (it speaks SyncML or plain text, never the JSON envelope).
 */
export function syncmlBodyParser(limitBytes: number): RequestHandler {
  return rawReader(limitBytes, (e, _req, res) => {
    res.status(e.status).set('Content-Type', 'text/plain; charset=utf-8').send(e.message);
  });
}

/**
 * The same reader for a handler outside Express (the management endpoint on the device
 * listener, decisions.md §44): the body (undefined when the request has none), or a
 * BodyReadError for the caller to answer in plain text, after the same warn line.
 */
export function syncmlBodyReader(
  limitBytes: number,
): (req: IncomingMessage, res: ServerResponse) => Promise<Buffer | undefined> {
  const read = rawReader(limitBytes, (e, _req, _res, next) => next(e));
  return (req, res) =>
    new Promise((resolve, reject) => {
      const r = req as Request;
      read(r, res as Response, (err?: unknown) =>
        err ? reject(err) : resolve(r.body as Buffer | undefined),
      );
    });
}

const UTF8 = /^utf-?8$/i;

function charsetOf(req: Request): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(req.headers['content-type'] ?? '');
  return match?.[1];
}

/**
 * Parses `application/json` bodies for the REST API: read under `limit`, then — on the raw text,
 * before JSON.parse — refuse nesting deeper than JSON_MAX_DEPTH and more than maxEntries
 * entries; after it, refuse a body that is not an object and any prototype key. Every refusal is
 * 400 5091 (413 over the limit, 415 for an unknown coding or charset) through the global filter,
 * before authentication and before any controller sees the body.
 */
export function jsonBodyParser(limit: number | string, limits: JsonLimits): RequestHandler {
  const read = rawReader(limit, (e, _req, _res, next) =>
    next(e.status === 415 ? new DomainError(ErrorCode.UnsupportedMediaType, e.message) : e),
  );
  return (req, res, next) => {
    // Device endpoints read their own bodies (their parsers run first).
    if (req.readableEnded || !req.is('application/json')) return next();
    const charset = charsetOf(req);
    if (charset !== undefined && !UTF8.test(charset)) {
      req.resume();
      return next(
        new DomainError(
          ErrorCode.UnsupportedMediaType,
          `JSON must be UTF-8 (RFC 8259 §8.1); got charset ${charset}`,
        ),
      );
    }
    read(req, res, (err?: unknown) => {
      if (err) return next(err);
      try {
        req.body = parseJsonBody(req.body as Buffer | undefined, limits);
        next();
      } catch (e) {
        if (e instanceof DomainError) warn(req, e.details?.[0]?.message ?? e.message);
        next(e);
      }
    });
  };
}

/** The body as the API takes it: a JSON object within the limits, without prototype keys. */
export function parseJsonBody(bytes: Buffer | undefined, limits: JsonLimits): unknown {
  if (bytes === undefined) return undefined;
  // A UTF-8 BOM is not JSON (RFC 8259 §8.1) but clients send it; body-parser dropped it too.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  // An empty body reads as {}: validation then names the missing fields.
  if (text.length === 0) return {};
  const problem = scanJsonText(text, limits);
  if (problem) throw invalidData([{ field: 'request', message: problem }]);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalidData([{ field: 'request', message: (e as Error).message }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidData([{ field: 'request', message: 'the body must be a JSON object' }]);
  }
  const forbidden = forbiddenKeys(value);
  if (forbidden.length) throw invalidData(forbidden);
  return value;
}
