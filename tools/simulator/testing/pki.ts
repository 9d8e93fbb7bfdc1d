import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { privateKeyPem } from '../identity';

// @peculiar/x509 resolves algorithms through tsyringe (hence reflect-metadata) and needs a
// WebCrypto provider: Node's own.
x509.cryptoProvider.set(webcrypto);

/** ECDSA P-256: milliseconds per certificate, so tests can make one per device. */
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;

export interface PemPair {
  cert: string;
  key: string;
}

export interface TestPki {
  /** The CA that signs the server and client certificates (PEM). */
  caCert: string;
  /** A server certificate for 127.0.0.1 and localhost. */
  server: PemPair;
  /** Issues a client certificate with CN = deviceId (what the server binds to the device, §1.3). */
  issueClient(deviceId: string): Promise<PemPair>;
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

/** A throw-away CA with a server certificate, for tests and local experiments only. */
export async function createTestPki(name = 'Mullion simulator test CA'): Promise<TestPki> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 30 * DAY_MS) };
  const caKeys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys: caKeys,
    signingAlgorithm: EC,
    ...validity,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const issue = async (subject: string, extensions: x509.Extension[]): Promise<PemPair> => {
    const keys = await keyPair();
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: EC,
      ...validity,
      extensions: [new x509.BasicConstraintsExtension(false), ...extensions],
    });
    return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
  };
  const server = await issue('CN=127.0.0.1', [
    new x509.SubjectAlternativeNameExtension([
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'localhost' },
    ]),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
  ]);
  return {
    caCert: ca.toString('pem'),
    server,
    issueClient: (deviceId) =>
      issue(`CN=${deviceId}`, [
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]),
  };
}
