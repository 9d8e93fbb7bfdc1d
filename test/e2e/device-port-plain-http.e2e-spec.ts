import { IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { startTestApp, TestApp } from '../support/app';

interface Answer {
  status: number | undefined;
  contentType: string | undefined;
  body: string;
}

const read = (res: IncomingMessage, resolve: (a: Answer) => void) => {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (body += c));
  res.on('end', () =>
    resolve({ status: res.statusCode, contentType: res.headers['content-type'], body }),
  );
};

describe('device listener: plain HTTP sent to the TLS port', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(__filename, { PUBLIC_BASE_URL: 'https://mdm.example.test' });
  });
  afterAll(() => t.close());

  const plain = (method: string, path: string, body?: string) =>
    new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: t.devices.port, method, path, agent: false },
        (res) => read(res, resolve),
      );
      req.on('error', reject);
      req.end(body);
    });

  it.each([
    ['GET', '/health'],
    ['POST', '/ManagementServer/MDM.svc'],
    ['GET', '/EnrollmentServer/Discovery.svc?x=1'],
  ])('answers %s %s with 400 and the https:// URL to use', async (method, path) => {
    const res = await plain(method, path, method === 'POST' ? '<SyncML/>' : undefined);
    expect(res).toEqual({
      status: 400,
      contentType: 'text/plain; charset=utf-8',
      body: `This port speaks HTTPS (TLS) only; use https://127.0.0.1:${t.devices.port}${path}\n`,
    });
  });

  it('falls back to PUBLIC_BASE_URL when the request has no Host header', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(t.devices.port, '127.0.0.1', () =>
        socket.end('GET /health HTTP/1.0\r\n\r\n'),
      );
      let raw = '';
      socket.setEncoding('latin1');
      socket.on('data', (c: string) => (raw += c));
      socket.on('end', () => resolve(raw));
      socket.on('error', reject);
    });
    const body = `This port speaks HTTPS (TLS) only; use https://mdm.example.test/health\n`;
    expect(answer).toBe(
      'HTTP/1.1 400 Bad Request\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        `Content-Length: ${body.length}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });

  it('still speaks HTTPS on the same port', async () => {
    const res = await new Promise<Answer>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: t.devices.port,
          path: '/health',
          rejectUnauthorized: false,
          agent: false,
        },
        (r) => read(r, resolve),
      );
      req.on('error', reject);
      req.end();
    });
    expect(res).toEqual({
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ status: true, data: { status: 'ok' } }),
    });
  });
});
