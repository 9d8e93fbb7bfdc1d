import { Logger } from '@nestjs/common';
import { bearer, startTestApp, TestApp } from '../support/app';
import { expectError } from './expect-error';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('health and request ids', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(__filename);
  });
  afterAll(() => t.close());

  describe('GET /health (liveness)', () => {
    it('answers 200 without a token', async () => {
      const res = await t.http.get('/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: true, data: { status: 'ok' } });
    });

    it('ignores a bad token: the probe is public', async () => {
      const res = await t.http.get('/health').set(bearer('not-a-token'));
      expect(res.status).toBe(200);
    });
  });

  describe('GET /health/ready (readiness)', () => {
    it('answers 200 while the store answers a ping', async () => {
      const res = await t.http.get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: true, data: { status: 'ok', store: 'up' } });
    });

    it('answers 503 with the error envelope once the store connection is gone', async () => {
      const down = await startTestApp(__filename);
      try {
        expect((await down.http.get('/health/ready')).status).toBe(200);
        await down.db.close();
        const res = await down.http.get('/health/ready');
        expect(res.status).toBe(503);
        expect(res.body).toEqual({
          status: false,
          error: { code: 5003, message: 'Service unavailable' },
        });
        expect(res.headers['x-request-id']).toMatch(UUID);
        // Liveness does not depend on the store.
        expect((await down.http.get('/health')).status).toBe(200);
      } finally {
        await down.close();
      }
    });
  });

  describe('X-Request-Id', () => {
    const token = () => t.token();
    type Headers = Record<string, string>;
    type Call = (h: Headers) => Promise<{ status: number; headers: Record<string, string> }>;
    const requests: [string, Call, number][] = [
      ['a liveness probe', (h) => t.http.get('/health').set(h), 200],
      [
        'a read of a missing organization',
        (h) => t.http.get('/v1/organizations/no-such-org').set(bearer(token())).set(h),
        404,
      ],
      ['a request without token', (h) => t.http.get('/v1/organizations/no-such-org').set(h), 401],
      [
        'a request with a bad token',
        (h) => t.http.get('/v1/organizations/x-y-z').set(bearer('bad')).set(h),
        401,
      ],
      [
        'a request without permission',
        (h) =>
          t.http
            .get('/v1/organizations/x-y-z')
            .set(bearer(t.token({ permissions: [] })))
            .set(h),
        403,
      ],
      ['an unknown route', (h) => t.http.get('/v1/nothing-here').set(bearer(token())).set(h), 404],
      [
        'a body that fails validation',
        (h) => t.http.post('/v1/organizations').set(bearer(token())).set(h).send({ name: '' }),
        400,
      ],
      [
        'a body that is not JSON',
        (h) =>
          t.http
            .post('/v1/organizations')
            .set(bearer(token()))
            .set(h)
            .set('Content-Type', 'application/json')
            .send('{"name": '),
        400,
      ],
    ];

    it.each(requests)('is set on %s', async (_l, call, status) => {
      const res = await call({});
      expect(res.status).toBe(status);
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it.each(requests)('echoes a valid incoming id on %s', async (_l, call, status) => {
      const id = 'trace-1718000000000.abc:DEF_9';
      const res = await call({ 'X-Request-Id': id });
      expect(res.status).toBe(status);
      expect(res.headers['x-request-id']).toBe(id);
    });

    it('gives every request its own id', async () => {
      const ids = await Promise.all(
        [1, 2, 3, 4].map(async () => (await t.http.get('/health')).headers['x-request-id']),
      );
      expect(new Set(ids).size).toBe(4);
    });

    it.each([
      ['with a space', 'bad id'],
      ['of 129 characters', 'a'.repeat(129)],
      ['with a slash', 'a/b'],
      ['with a quote', 'a"b'],
    ])('replaces an incoming id %s', async (_l, id) => {
      const res = await t.http.get('/health').set('X-Request-Id', id);
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it('keeps an incoming id of exactly 128 characters', async () => {
      const id = 'b'.repeat(128);
      expect((await t.http.get('/health').set('X-Request-Id', id)).headers['x-request-id']).toBe(
        id,
      );
    });

    it('renders a malformed JSON body as 400 5091 with the parser text in details', async () => {
      const res = await t.http
        .post('/v1/organizations')
        .set(bearer(token()))
        .set('Content-Type', 'application/json')
        .send('{"name": ');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        status: false,
        error: {
          code: 5091,
          message: 'Invalid data',
          details: [{ field: 'request', message: expect.any(String) }],
        },
      });
    });
  });

  it('writes one structured log line per request when LOG_REQUESTS is on', async () => {
    const logged = await startTestApp(__filename, { LOG_REQUESTS: 'true' });
    type Line = Record<string, unknown> & { msg: string; requestId: string };
    const lines: Line[] = [];
    const ids = ['log-line-1', 'log-line-2'];
    let seen: () => void = () => undefined;
    const bothLogged = new Promise<void>((resolve) => (seen = resolve));
    const spy = jest.spyOn(Logger.prototype, 'log').mockImplementation((m: unknown) => {
      const line = typeof m === 'string' && m.startsWith('{') ? (JSON.parse(m) as Line) : null;
      if (line?.msg === 'request') lines.push(line);
      if (ids.every((id) => lines.some((l) => l.requestId === id))) seen();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const ok = await logged.http.get('/health').set('X-Request-Id', ids[0]);
      expectError(
        await logged.http.get('/v1/organizations/no-such-org').set('X-Request-Id', ids[1]),
        4002,
      );
      expect(ok.status).toBe(200);
      // The line is written on 'finish', which may follow the response by a tick: wait for both
      // lines, failing after a bound rather than sleeping a fixed time.
      await Promise.race([
        bothLogged,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no request log line within 5 s')), 5000);
        }),
      ]);
      const first = lines.filter((l) => l.requestId === ids[0]);
      expect(first).toEqual([
        {
          msg: 'request',
          method: 'GET',
          route: '/health',
          path: '/health',
          status: 200,
          durationMs: expect.any(Number),
          requestId: 'log-line-1',
        },
      ]);
      expect(lines.filter((l) => l.requestId === ids[1])).toEqual([
        expect.objectContaining({
          method: 'GET',
          status: 401,
          path: '/v1/organizations/no-such-org',
        }),
      ]);
    } finally {
      clearTimeout(timer);
      spy.mockRestore();
      await logged.close();
    }
  });
});
