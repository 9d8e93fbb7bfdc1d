import { ArgumentsHost } from '@nestjs/common';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import {
  BulkWriteResult,
  MongoBulkWriteError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  TopologyDescription,
} from 'mongodb';
import { Error as MongooseError } from 'mongoose';
import { GlobalExceptionFilter } from './http-exception.filter';
import { isStoreUnreachable } from './store-unreachable';

const selection = () =>
  new MongoServerSelectionError('Server selection timed out after 2000 ms', {
    servers: new Map(),
  } as unknown as TopologyDescription);

/**
 * The error Node gives a write to a socket whose peer has closed its end: what the driver
 * rethrows when the store is killed between two commands on a pooled connection.
 */
async function writeAfterPeerClosed(): Promise<Error> {
  const server = createServer((s) => s.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const socket = createConnection(port, '127.0.0.1');
  try {
    await once(socket, 'end');
    const failed = once(socket, 'error');
    socket.write('after the end');
    const [error] = (await failed) as [Error];
    return error;
  } finally {
    socket.destroy();
    server.close();
  }
}

describe('isStoreUnreachable', () => {
  it('recognizes a write to a connection the store closed (EPIPE, unwrapped by the driver)', async () => {
    const error = await writeAfterPeerClosed();
    expect((error as NodeJS.ErrnoException).code).toBe('EPIPE');
    expect(isStoreUnreachable(error)).toBe(true);
  });

  it.each([
    ['server selection timeout', selection()],
    ['network error', new MongoNetworkError('connection 3 to 127.0.0.1:3601 closed')],
    ['not connected', new MongoNotConnectedError('Client must be connected')],
    ['topology closed', new MongoTopologyClosedError()],
    ['shutdown in progress', new MongoServerError({ code: 91, errmsg: 'shutdown in progress' })],
    [
      'mongoose buffering timeout',
      new MongooseError('Operation `win_devices.findOne()` buffering timed out after 10000ms'),
    ],
    ['wrapped in a cause', new Error('enqueue failed', { cause: selection() })],
    [
      'a bulk write that failed on a network error',
      new MongoBulkWriteError(
        new MongoNetworkError('connection 1 to 127.0.0.1:3601 closed'),
        {} as BulkWriteResult,
      ),
    ],
  ])('recognizes %s', (_, error) => {
    expect(isStoreUnreachable(error)).toBe(true);
  });

  it.each([
    ['duplicate key', new MongoServerError({ code: 11000, errmsg: 'E11000 duplicate key' })],
    [
      'a bulk write refused by the server',
      new MongoBulkWriteError(
        { message: 'E11000 duplicate key', code: 11000 },
        {} as BulkWriteResult,
      ),
    ],
    ['a validation error', new MongooseError('Validation failed')],
    ['a plain error', new Error('boom')],
    ['a string', 'MongoNetworkError'],
  ])('does not take %s for an unreachable store', (_, error) => {
    expect(isStoreUnreachable(error)).toBe(false);
  });
});

describe('GlobalExceptionFilter and an unreachable store', () => {
  function render(exception: unknown) {
    const headers: Record<string, string> = {};
    const sent: { status?: number; body?: unknown } = {};
    const res = {
      headersSent: false,
      getHeader: (name: string) => headers[name],
      setHeader: (name: string, value: string) => (headers[name] = value),
      status(code: number) {
        sent.status = code;
        return this;
      },
      json: (body: unknown) => (sent.body = body),
    };
    const req = { method: 'GET', url: '/v1/x', originalUrl: '/v1/x', header: () => undefined };
    const host = {
      switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }),
    } as unknown as ArgumentsHost;
    new GlobalExceptionFilter().catch(exception, host);
    return { ...sent, headers };
  }

  it('answers 503 5003 with Retry-After, not 500', () => {
    const r = render(selection());
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      status: false,
      error: { code: 5003, message: 'Service unavailable' },
    });
    expect(r.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
  });

  it('still answers 500 5000 for other failures', () => {
    const r = render(new Error('boom'));
    expect(r.status).toBe(500);
    expect(r.headers['Retry-After']).toBeUndefined();
  });
});
