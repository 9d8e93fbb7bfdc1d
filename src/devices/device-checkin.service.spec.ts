import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import type { EventBus } from '../events/event-bus';
import { createEnterpriseCa, issueDeviceCertificate } from '../pki';
import * as verify from '../pki/verify';
import type { DeviceCertificatesRepository } from './device-certificates.repository';
import { DeviceCheckinService } from './device-checkin.service';
import type { DeviceCheckinsRepository } from './device-checkins.repository';
import type { WinDevice } from './devices.types';
import type { EnterpriseCaService } from './enterprise-ca.service';

// An enrolled device's certificate chains to its enterprise's CA: verified once per parsed
// certificate (one per TLS connection), while its validity is checked at every message.

const NOW = new Date();
const DAY = 86_400_000;
let caPem: string;
let otherCaPem: string;
let der: Buffer;
let device: WinDevice;

beforeAll(async () => {
  const [ca, other] = await Promise.all([
    createEnterpriseCa({ commonName: 'CA 1', now: NOW, keyBits: 2048 }),
    createEnterpriseCa({ commonName: 'CA 2', now: NOW, keyBits: 2048 }),
  ]);
  caPem = ca.certificatePem;
  otherCaPem = other.certificatePem;
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const issued = await issueDeviceCertificate({
    ca: { certificatePem: ca.certificatePem, privateKeyPkcs8Pem: ca.privateKeyPkcs8Pem },
    csrPublicKey: publicKey,
    deviceId: 'DEVICE-1',
    now: NOW,
  });
  der = new X509Certificate(issued.certificatePem).raw;
  device = {
    winEnterpriseId: 'e1',
    certificate: { thumbprint: issued.thumbprint, source: 'enrollment' },
    renewal: {},
  } as unknown as WinDevice;
});
afterEach(() => jest.restoreAllMocks());

function service(pem: () => string) {
  const cas = { caCertificatePem: () => Promise.resolve(pem()) };
  return new DeviceCheckinService(
    {} as AppConfig,
    {} as DeviceCheckinsRepository,
    cas as unknown as EnterpriseCaService,
    {} as EventBus,
    {} as DeviceCertificatesRepository,
  );
}

it('verifies the chain once per parsed certificate, the validity every time', async () => {
  const chain = jest.spyOn(verify, 'verifyClientCertificate');
  const s = service(() => caPem);
  const connection = {
    thumbprint: device.certificate!.thumbprint,
    certificate: new X509Certificate(der),
  };
  expect(await s.distrustFor(device, connection, NOW)).toBeUndefined();
  expect(await s.distrustFor(device, connection, NOW)).toBeUndefined();
  expect(chain).toHaveBeenCalledTimes(1);
  const later = new Date(new Date(connection.certificate.validTo).getTime() + DAY);
  expect(await s.distrustFor(device, connection, later)).toBe('expired');
  // Another connection's certificate is verified on its own.
  const another = { ...connection, certificate: new X509Certificate(der) };
  expect(await s.distrustFor(device, another, NOW)).toBeUndefined();
  expect(chain).toHaveBeenCalledTimes(2);
});

it('verifies again against another CA', async () => {
  let pem = caPem;
  const s = service(() => pem);
  const connection = {
    thumbprint: device.certificate!.thumbprint,
    certificate: new X509Certificate(der),
  };
  expect(await s.distrustFor(device, connection, NOW)).toBeUndefined();
  pem = otherCaPem;
  expect(await s.distrustFor(device, connection, NOW)).toBe('not-issued-by-ca');
});
