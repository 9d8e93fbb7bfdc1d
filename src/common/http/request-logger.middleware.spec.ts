import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { NextFunction, Request, Response } from 'express';
import type { AppConfig } from '../../config/app-config';
import { RequestLoggerMiddleware } from './request-logger.middleware';

function exchange(logRequests: boolean, requestId?: string) {
  const middleware = new RequestLoggerMiddleware({ logRequests } as AppConfig);
  const req = {
    method: 'GET',
    path: '/health',
    originalUrl: '/health?x=1',
    baseUrl: '',
    route: { path: '/health' },
    header: (name: string) => (name === 'x-request-id' ? requestId : undefined),
  } as unknown as Request;
  const headers: Record<string, string> = {};
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    setHeader: (k: string, v: string) => (headers[k] = v),
  }) as unknown as Response;
  const next = jest.fn() as NextFunction;
  middleware.use(req, res, next);
  (res as unknown as EventEmitter).emit('finish');
  return { headers, next, req };
}

describe('RequestLoggerMiddleware', () => {
  let log: jest.SpyInstance;
  beforeEach(() => {
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => log.mockRestore());

  it('writes one structured line per request when LOG_REQUESTS is on', () => {
    const { headers, next } = exchange(true, 'req-42');
    expect(next).toHaveBeenCalledTimes(1);
    expect(headers['X-Request-Id']).toBe('req-42');
    expect(log).toHaveBeenCalledTimes(1);
    expect(JSON.parse(log.mock.calls[0][0] as string)).toMatchObject({
      msg: 'request',
      method: 'GET',
      route: '/health',
      path: '/health',
      status: 200,
      requestId: 'req-42',
    });
  });

  it('writes nothing when LOG_REQUESTS is off, but still sets the request id', () => {
    const { headers, next, req } = exchange(false);
    expect(next).toHaveBeenCalledTimes(1);
    expect(headers['X-Request-Id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((req as Request & { id: string }).id).toBe(headers['X-Request-Id']);
    expect(log).not.toHaveBeenCalled();
  });
});
