import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { pemToDer } from './pem';

// @peculiar/x509 resolves its algorithms through tsyringe (hence reflect-metadata above) and
// needs a WebCrypto provider; Node's is the same OpenSSL the rest of this module uses.
x509.cryptoProvider.set(webcrypto);

export { x509 };

export const RSA_SHA256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

export const MIN_RSA_BITS = 2048;

/**
 * 16 random bytes with the top bits fixed to 01: always positive, never needs a leading zero
 * (so the DER INTEGER is exactly 16 bytes), 126 bits of entropy (RFC 5280 4.1.2.2 allows up to
 * 20 octets; CA/B Forum BR 7.1 asks for at least 64 random bits).
 */
export function randomSerialHex(): string {
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x3f) | 0x40;
  return serial.toString('hex').toUpperCase();
}

export async function importSigningKey(privateKeyPkcs8Pem: string): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey(
    'pkcs8',
    pemToDer(privateKeyPkcs8Pem, 'PRIVATE KEY'),
    RSA_SHA256,
    false,
    ['sign'],
  );
}
