import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { loadConfig } from '../config/app-config';
import { ManagementEndpoint } from './management-endpoint';
import type { SyncmlSessionService } from './syncml-session.service';
import type { SyncmlHttpResult } from './syncml-session.types';

const config = loadConfig({ JWT_SECRET: 'x'.repeat(32), DATA_DIR: '/tmp/unused' });

function endpoint(handle: () => Promise<SyncmlHttpResult>): ManagementEndpoint {
  return new ManagementEndpoint(config, { handle } as unknown as SyncmlSessionService);
}

const request = (method: string, url: string, contentType?: string) =>
  ({
    method,
    url,
    headers: contentType ? { 'content-type': contentType } : {},
    // A connection that stays open (the admission gate listens for its close).
    socket: Object.assign(new EventEmitter(), { destroyed: false }),
  }) as unknown as IncomingMessage;

const SYNCML = 'application/vnd.syncml.dm+xml';

describe('ManagementEndpoint', () => {
  it('takes what the Express route matched, and nothing else', () => {
    const e = endpoint(() => Promise.reject(new Error('unused')));
    const taken = [
      '/ManagementServer/MDM.svc',
      '/managementserver/mdm.svc',
      '/ManagementServer/MDM.svc/',
      '/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA',
    ];
    const left = [
      '/ManagementServer/MDM.svc//',
      '/ManagementServer/MDM.svcx',
      '/ManagementServer/MDM%2Esvc',
      '/ManagementServer',
      '/EnrollmentServer/Enrollment.svc',
      'https://host/ManagementServer/MDM.svc',
    ];
    expect(taken.map((u) => e.matches(request('POST', u)))).toEqual(taken.map(() => true));
    expect(left.map((u) => e.matches(request('POST', u)))).toEqual(left.map(() => false));
    expect(e.matches(request('GET', '/ManagementServer/MDM.svc'))).toBe(false);
    expect(e.matches(request('PUT', '/ManagementServer/MDM.svc'))).toBe(false);
  });

  it('refuses another content type and a missing body before the session', async () => {
    const handle = jest.fn();
    const e = endpoint(handle);
    const body = Buffer.from('<SyncML/>');
    expect(await e.answer(request('POST', '/', 'text/xml'), body)).toEqual(
      expect.objectContaining({ status: 415, body: `Content-Type must be ${SYNCML}` }),
    );
    expect(await e.answer(request('POST', '/', `${SYNCML}; charset=utf-8`), undefined)).toEqual(
      expect.objectContaining({ status: 400, body: 'Empty body' }),
    );
    expect(handle).not.toHaveBeenCalled();
  });

  it('answers 503 with Retry-After when the store is unreachable, and lets anything else through', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const unreachable = Object.assign(new Error('no server'), {
        name: 'MongoServerSelectionError',
      });
      const down = endpoint(() => Promise.reject(unreachable));
      expect(await down.answer(request('POST', '/', SYNCML), Buffer.from('x'))).toEqual({
        status: 503,
        body: 'Service unavailable, retry',
        contentType: 'text/plain; charset=utf-8',
        headers: { 'Retry-After': '5' },
      });
      const bug = new TypeError('a bug');
      const broken = endpoint(() => Promise.reject(bug));
      await expect(broken.answer(request('POST', '/', SYNCML), Buffer.from('x'))).rejects.toBe(bug);
    } finally {
      warn.mockRestore();
    }
  });

  it('answers 503 and gives the place back when a message outlives the deadline', async () => {
    jest.useFakeTimers();
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const gated = loadConfig({
        JWT_SECRET: 'x'.repeat(32),
        DATA_DIR: '/tmp/unused',
        SYNCML_MAX_CONCURRENT: '1',
        SYNCML_MESSAGE_DEADLINE_SECONDS: '60',
      });
      let calls = 0;
      const e = new ManagementEndpoint(gated, {
        // The first message waits on a store call that never settles; the next one is served.
        handle: () =>
          ++calls === 1
            ? new Promise<SyncmlHttpResult>(() => undefined)
            : Promise.resolve({ status: 200, body: '<SyncML/>', contentType: SYNCML }),
      } as unknown as SyncmlSessionService);
      const stuck = e.answer(request('POST', '/', SYNCML), Buffer.from('x'));
      await jest.advanceTimersByTimeAsync(59_999);
      expect(e.gate.inFlight).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(await stuck).toEqual({
        status: 503,
        body: 'Service unavailable, retry',
        contentType: 'text/plain; charset=utf-8',
        headers: { 'Retry-After': '5' },
      });
      expect(e.gate.inFlight).toBe(0);
      expect(error).toHaveBeenCalledWith(expect.stringContaining('not answered within 60 s'));
      expect(await e.answer(request('POST', '/', SYNCML), Buffer.from('x'))).toMatchObject({
        status: 200,
      });
    } finally {
      error.mockRestore();
      jest.useRealTimers();
    }
  });
});
