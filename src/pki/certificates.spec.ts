import { X509Certificate, createHash, createPrivateKey, sign, verify } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnterpriseCa, createEnterpriseCa } from './ca';
import { parseAndVerifyCsr } from './csr';
import { WINDOWS_DEVICE_ID, makeCsr } from '../../test/fixtures/pki/make-csr';
import { IssuedCertificate, issueDeviceCertificate } from './issue';
import { derToPem, pemToDer, thumbprintOf } from './pem';
import { verifyClientCertificate } from './verify';
import { x509 } from './x509';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

let ca: EnterpriseCa;
let otherCa: EnterpriseCa;
let issued: IssuedCertificate;

beforeAll(async () => {
  ca = await createEnterpriseCa({ commonName: 'Acme Device CA', organization: 'Acme', now: NOW });
  otherCa = await createEnterpriseCa({ commonName: 'Other CA', now: NOW, keyBits: 2048 });
  const csr = parseAndVerifyCsr(
    readFileSync(join(__dirname, '../../test/fixtures/pki/windows-csr.b64'), 'utf8'),
  );
  issued = await issueDeviceCertificate({
    ca,
    csrPublicKey: csr.publicKey,
    deviceId: WINDOWS_DEVICE_ID,
    now: NOW,
  });
}, 30_000);

describe('createEnterpriseCa', () => {
  it('makes a self-signed RSA-3072 CA certificate with the CA profile', () => {
    const cert = new x509.X509Certificate(ca.certificatePem);
    expect(cert.subject).toBe('CN=Acme Device CA, O=Acme');
    expect(cert.issuer).toBe(cert.subject);
    const nodeCert = new X509Certificate(ca.certificateDer);
    expect(nodeCert.ca).toBe(true);
    expect(nodeCert.verify(nodeCert.publicKey)).toBe(true);
    expect(nodeCert.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);

    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(true);
    expect(bc?.critical).toBe(true);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(ku?.critical).toBe(true);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.signatureAlgorithm).toMatchObject({ hash: { name: 'SHA-256' } });
  });

  it('is valid for ten years from five minutes before now', () => {
    expect(ca.notBefore.toISOString()).toBe('2026-03-01T11:55:00.000Z');
    expect(ca.notAfter.toISOString()).toBe('2036-03-01T11:55:00.000Z');
  });

  it('reports the SHA-1 thumbprint of the DER in upper-case hex', () => {
    const expected = createHash('sha1').update(ca.certificateDer).digest('hex').toUpperCase();
    expect(ca.thumbprint).toBe(expected);
    expect(thumbprintOf(ca.certificatePem)).toBe(expected);
    expect(pemToDer(ca.certificatePem).equals(ca.certificateDer)).toBe(true);
  });

  it('returns the private key that belongs to the certificate', () => {
    const key = createPrivateKey(ca.privateKeyPkcs8Pem);
    const signature = sign('sha256', Buffer.from('probe'), key);
    const publicKey = new X509Certificate(ca.certificateDer).publicKey;
    expect(verify('sha256', Buffer.from('probe'), publicKey, signature)).toBe(true);
  });
});

describe('issueDeviceCertificate', () => {
  it('issues the device profile for the Windows CSR key', () => {
    const cert = new x509.X509Certificate(issued.certificatePem);
    expect(cert.subject).toBe(`CN=${WINDOWS_DEVICE_ID}`);
    expect(issued.subject).toBe(`CN=${WINDOWS_DEVICE_ID}`);
    expect(cert.issuer).toBe('CN=Acme Device CA, O=Acme');
    expect(cert.signatureAlgorithm).toMatchObject({
      name: 'RSASSA-PKCS1-v1_5',
      hash: { name: 'SHA-256' },
    });
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect([bc?.ca, bc?.critical]).toEqual([false, true]);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    );
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      '1.3.6.1.5.5.7.3.2',
    ]);
    const caSki = new x509.X509Certificate(ca.certificatePem).getExtension(
      x509.SubjectKeyIdentifierExtension,
    )?.keyId;
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caSki);
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
  });

  it('keeps the CSR public key', () => {
    const csr = parseAndVerifyCsr(
      readFileSync(join(__dirname, '../../test/fixtures/pki/windows-csr.b64'), 'utf8'),
    );
    const certKey = new X509Certificate(issued.certificateDer).publicKey;
    expect(certKey.export({ format: 'der', type: 'spki' }).equals(csr.publicKeySpkiDer)).toBe(true);
  });

  it('is valid from now - 5 min for 365 days', () => {
    expect(issued.notBefore.toISOString()).toBe('2026-03-01T11:55:00.000Z');
    expect(issued.notAfter.getTime()).toBe(NOW.getTime() + 365 * DAY);
  });

  it('uses a random positive 16-byte serial and reports serial and thumbprint consistently', async () => {
    expect(issued.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
    const nodeCert = new X509Certificate(issued.certificateDer);
    expect(nodeCert.serialNumber).toBe(issued.serialNumber);
    expect(nodeCert.fingerprint.replace(/:/g, '')).toBe(issued.thumbprint);
    const again = await issueDeviceCertificate({
      ca,
      csrPublicKey: nodeCert.publicKey,
      deviceId: WINDOWS_DEVICE_ID,
      now: NOW,
    });
    expect(again.serialNumber).not.toBe(issued.serialNumber);
  });

  it('chains to the CA with node:crypto', () => {
    const cert = new X509Certificate(issued.certificateDer);
    const caCert = new X509Certificate(ca.certificateDer);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(otherCa.certificateDer).publicKey)).toBe(false);
  });

  (hasOpenssl ? it : it.skip)('passes `openssl verify -purpose sslclient`', async () => {
    const now = new Date();
    const csr = await makeCsr();
    const fresh = await issueDeviceCertificate({
      ca,
      csrPublicKey: parseAndVerifyCsr(csr.der).publicKey,
      deviceId: 'C0FFEE',
      now,
    });
    const dir = mkdtempSync(join(tmpdir(), 'pki-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), ca.certificatePem);
      writeFileSync(join(dir, 'device.pem'), fresh.certificatePem);
      const out = execFileSync('openssl', [
        'verify',
        '-purpose',
        'sslclient',
        '-attime',
        String(Math.floor(now.getTime() / 1000)),
        '-CAfile',
        join(dir, 'ca.pem'),
        join(dir, 'device.pem'),
      ]).toString();
      expect(out.trim()).toBe(`${join(dir, 'device.pem')}: OK`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a weak key and an unusable device id', async () => {
    const weak = await makeCsr({ bits: 1024 });
    const weakKey = new x509.Pkcs10CertificateRequest(weak.der).publicKey.rawData;
    await expect(
      issueDeviceCertificate({ ca, csrPublicKey: Buffer.from(weakKey), deviceId: 'x', now: NOW }),
    ).rejects.toThrow(TypeError);
    const key = new X509Certificate(issued.certificateDer).publicKey;
    await expect(
      issueDeviceCertificate({ ca, csrPublicKey: key, deviceId: 'a\u0000b', now: NOW }),
    ).rejects.toThrow(TypeError);
  });
});

describe('verifyClientCertificate', () => {
  it('accepts the issued certificate (PEM or DER) inside its validity', () => {
    const result = verifyClientCertificate(issued.certificatePem, ca.certificatePem, NOW);
    expect(result).toEqual({
      ok: true,
      thumbprint: issued.thumbprint,
      subjectCn: WINDOWS_DEVICE_ID,
      serialNumber: issued.serialNumber,
      notAfter: issued.notAfter,
    });
    expect(verifyClientCertificate(issued.certificateDer, ca.certificatePem, NOW).ok).toBe(true);
  });

  it('rejects a certificate from another CA', () => {
    expect(verifyClientCertificate(issued.certificatePem, otherCa.certificatePem, NOW)).toEqual({
      ok: false,
      reason: 'not-issued-by-ca',
    });
  });

  it('rejects a certificate from another CA that uses the same name', async () => {
    const impostor = await createEnterpriseCa({
      commonName: 'Acme Device CA',
      organization: 'Acme',
      now: NOW,
      keyBits: 2048,
    });
    // X509_check_issued compares our AKI with the impostor's SKI, not just the names.
    expect(verifyClientCertificate(issued.certificatePem, impostor.certificatePem, NOW)).toEqual({
      ok: false,
      reason: 'not-issued-by-ca',
    });
  });

  it.each([
    ['expired', new Date(NOW.getTime() + 366 * DAY)],
    ['not-yet-valid', new Date(NOW.getTime() - 10 * 60 * 1000)],
  ])('rejects a certificate outside its validity (%s)', (reason, at) => {
    expect(verifyClientCertificate(issued.certificatePem, ca.certificatePem, at)).toEqual({
      ok: false,
      reason,
    });
  });

  it('rejects the CA certificate itself and garbage', () => {
    expect(verifyClientCertificate(ca.certificatePem, ca.certificatePem, NOW)).toEqual({
      ok: false,
      reason: 'not-end-entity',
    });
    expect(verifyClientCertificate(Buffer.from('nope'), ca.certificatePem, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    const tampered = Buffer.from(issued.certificateDer);
    tampered[tampered.length - 5] ^= 0xff;
    expect(verifyClientCertificate(derToPem(tampered), ca.certificatePem, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });
});
