import { generateKeyPairSync, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsrError, CsrErrorReason, parseAndVerifyCsr } from './csr';
import { WINDOWS_DEVICE_ID, makeCsr } from '../../test/fixtures/pki/make-csr';
import { x509 } from './x509';

const windowsCsrB64 = readFileSync(
  join(__dirname, '../../test/fixtures/pki/windows-csr.b64'),
  'utf8',
);

function reasonOf(fn: () => unknown): CsrErrorReason | 'no-error' | 'other-error' {
  try {
    fn();
    return 'no-error';
  } catch (err) {
    return err instanceof CsrError ? err.reason : 'other-error';
  }
}

describe('parseAndVerifyCsr — the genuine Windows CSR (Fleet capture)', () => {
  it('verifies its OIW sha1RSA signature and reads the quirky subject and DeviceID', () => {
    const csr = parseAndVerifyCsr(windowsCsrB64);
    expect(csr.signatureAlgorithmOid).toBe('1.3.14.3.2.29');
    expect(csr.keyBits).toBe(2048);
    expect(csr.publicKey.asymmetricKeyType).toBe('rsa');
    expect(csr.deviceIdExtension).toBe(WINDOWS_DEVICE_ID);
    // PrintableString CN with '!' and a trailing NUL, as Windows sends it (enrollment.md §6.1).
    expect(csr.commonName).toBe(`562A7F9A-6CD8-40B0-9E7E-0DBDD8!${WINDOWS_DEVICE_ID}\u0000`);
    expect(csr.subject).toBe(`CN=562A7F9A-6CD8-40B0-9E7E-0DBDD8!${WINDOWS_DEVICE_ID}\\00`);
  });

  it('tolerates line breaks, spaces and tabs inside the base64', () => {
    const wrapped = (windowsCsrB64.trim().match(/.{1,60}/g) ?? []).join('\r\n\t  ');
    expect(parseAndVerifyCsr(`\n ${wrapped} \n`).deviceIdExtension).toBe(WINDOWS_DEVICE_ID);
  });

  it('accepts the same CSR as a DER buffer', () => {
    const der = Buffer.from(windowsCsrB64, 'base64');
    expect(parseAndVerifyCsr(der).publicKeySpkiDer.length).toBe(294);
  });

  it('rejects it once a signature byte is flipped', () => {
    const der = Buffer.from(windowsCsrB64, 'base64');
    der[der.length - 10] ^= 0x01;
    expect(reasonOf(() => parseAndVerifyCsr(der))).toBe('bad-signature');
  });

  it('rejects it once a byte of the signed DeviceID is changed', () => {
    const der = Buffer.from(windowsCsrB64, 'base64');
    const at = der.indexOf(Buffer.from(WINDOWS_DEVICE_ID, 'latin1'));
    der[at] = 'C'.charCodeAt(0);
    expect(reasonOf(() => parseAndVerifyCsr(der))).toBe('bad-signature');
  });
});

describe('parseAndVerifyCsr — CSRs made in the test', () => {
  it.each(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'])(
    'verifies an RSA-2048 %s CSR',
    async (hash) => {
      const made = await makeCsr({ hash });
      const csr = parseAndVerifyCsr(made.base64);
      expect(csr.keyBits).toBe(2048);
      expect(csr.commonName).toBe('test-device');
      expect(csr.deviceIdExtension).toBeUndefined();
    },
  );

  it('rejects a CSR whose subject was changed after signing', async () => {
    const { der } = await makeCsr({ cn: 'device-aaaa' });
    const at = der.indexOf(Buffer.from('device-aaaa'));
    der.write('b', at + 7, 'latin1');
    expect(reasonOf(() => parseAndVerifyCsr(der))).toBe('bad-signature');
  });

  it('rejects a 1024-bit key as weak', async () => {
    const { base64 } = await makeCsr({ bits: 1024 });
    expect(reasonOf(() => parseAndVerifyCsr(base64))).toBe('weak-key');
  });

  it('rejects md5WithRSAEncryption as unsupported', async () => {
    const { der } = await makeCsr();
    const sha256WithRsa = Buffer.from('06092a864886f70d01010b', 'hex');
    const at = der.lastIndexOf(sha256WithRsa);
    der[at + sha256WithRsa.length - 1] = 0x04;
    expect(reasonOf(() => parseAndVerifyCsr(der))).toBe('unsupported-algorithm');
  });

  it('rejects an ECDSA key as unsupported', async () => {
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keys = {
      privateKey: await webcrypto.subtle.importKey(
        'pkcs8',
        privateKey.export({ format: 'der', type: 'pkcs8' }),
        alg,
        true,
        ['sign'],
      ),
      publicKey: await webcrypto.subtle.importKey(
        'spki',
        publicKey.export({ format: 'der', type: 'spki' }),
        alg,
        true,
        ['verify'],
      ),
    };
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=ec',
      keys,
      signingAlgorithm: alg,
    });
    expect(reasonOf(() => parseAndVerifyCsr(Buffer.from(csr.rawData)))).toBe(
      'unsupported-algorithm',
    );
  });
});

describe('parseAndVerifyCsr — malformed input', () => {
  const der = Buffer.from(windowsCsrB64, 'base64');

  it.each([
    ['an empty string', ''],
    ['non-base64 characters', 'MIIC*zjCC'],
    ['base64 of text', Buffer.from('hello world').toString('base64')],
    ['a truncated CSR', der.subarray(0, 300).toString('base64')],
    ['trailing bytes', Buffer.concat([der, Buffer.from([0])]).toString('base64')],
    ['an indefinite length', Buffer.from('3080020100', 'hex').toString('base64')],
    ['an oversized body', 'A'.repeat(40_000)],
  ])('rejects %s as malformed', (_label, input) => {
    expect(reasonOf(() => parseAndVerifyCsr(input))).toBe('malformed');
  });

  it('rejects a length that points past the end as malformed', () => {
    const broken = Buffer.from(der);
    broken[6] = 0x05; // certificationRequestInfo length 0x05ba > the 718-byte container
    expect(reasonOf(() => parseAndVerifyCsr(broken))).toBe('malformed');
  });
});
