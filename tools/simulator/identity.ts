import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { DeviceIdentity } from './types';

// @peculiar/x509 resolves algorithms through tsyringe (hence reflect-metadata) and needs a
// WebCrypto provider: Node's own.
x509.cryptoProvider.set(webcrypto);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** A device id shaped like captured Windows enrollments: 32 upper-case hex digits (§2.2). */
export function randomDeviceId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/**
 * A self-signed client certificate (CN = deviceId, clientAuth, RSA-2048, one year) for a device an
 * administrator registers by certificate (issue 3 §2). Enrolled devices get theirs from the CA.
 */
export async function createSelfSignedIdentity(
  deviceId: string,
  now = new Date(),
): Promise<DeviceIdentity> {
  const keys = (await webcrypto.subtle.generateKey(
    { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 1);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [deviceId] }],
    keys,
    signingAlgorithm: RSA,
    notBefore: new Date(now.getTime() - 5 * 60 * 1000),
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return { deviceId, cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

/** PKCS#8 PEM of an extractable private key. */
export async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}
