import type { Request } from 'express';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeDeviceCredentials, type DeviceCredentials } from '../../test/support/device-certs';
import { clientIdentity, type ClientIdentity } from './client-identity';
import { createSelfSignedServerCertificate } from './self-signed';

// The identity is resolved once per TLS connection: every request of a connection gets the same
// one, and another connection with another certificate is another device.

let server: Server;
let port: number;
const seen: (ClientIdentity | null)[] = [];
let a: DeviceCredentials;
let b: DeviceCredentials;

beforeAll(async () => {
  const { certPem, keyPem } = await createSelfSignedServerCertificate(['127.0.0.1']);
  [a, b] = await Promise.all([
    makeDeviceCredentials('DEVICE-A'),
    makeDeviceCredentials('DEVICE-B'),
  ]);
  server = createServer(
    { cert: certPem, key: keyPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      seen.push(clientIdentity(req as unknown as Request, { trustedProxies: [] }));
      res.end('ok');
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function get(agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  });
}

const agentFor = (c?: DeviceCredentials) =>
  new Agent({
    keepAlive: true,
    maxSockets: 1,
    rejectUnauthorized: false,
    ...(c && { cert: c.certPem, key: c.keyPem }),
  });

it('is parsed once per connection and differs between connections', async () => {
  const first = agentFor(a);
  const second = agentFor(b);
  const none = agentFor();
  try {
    await get(first);
    await get(first);
    await get(second);
    await get(none);
  } finally {
    for (const agent of [first, second, none]) agent.destroy();
  }
  const [a1, a2, b1, n] = seen;
  expect(a1?.thumbprint).toBe(a.thumbprint);
  expect(a2).toBe(a1);
  expect(b1?.thumbprint).toBe(b.thumbprint);
  expect(b1?.certificate.subject).toContain('DEVICE-B');
  expect(n).toBeNull();
});
