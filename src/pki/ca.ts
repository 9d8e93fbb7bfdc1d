import { webcrypto } from 'node:crypto';
import { derToPem, thumbprintOf } from './pem';
import { RSA_SHA256, randomSerialHex, x509 } from './x509';

/**
 * 3072-bit by default: the CA outlives 2030, after which NIST SP 800-57 Pt 1 / SP 800-131A no
 * longer accept the 112-bit strength of RSA-2048. Measured here (bench/pki.bench.ts): ~0.45 s
 * once per enterprise instead of ~0.19 s, and ~2 ms more per issued certificate.
 */
export const DEFAULT_CA_KEY_BITS = 3072;
export const CA_VALIDITY_YEARS = 10;
/** Tolerates device clocks that run slightly behind. */
export const BACKDATE_MS = 5 * 60 * 1000;

const F4 = new Uint8Array([1, 0, 1]);

export interface CreateEnterpriseCaInput {
  commonName: string;
  organization?: string;
  now: Date;
  keyBits?: 2048 | 3072 | 4096;
}

export interface EnterpriseCa {
  certificatePem: string;
  certificateDer: Buffer;
  /** SHA-1 of the DER, upper-case hex: the `Root/System/<thumbprint>` key of the provisioning doc. */
  thumbprint: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Plain PKCS#8 PEM: seal it (key-vault.ts) before it is stored anywhere. */
  privateKeyPkcs8Pem: string;
}

export async function createEnterpriseCa(input: CreateEnterpriseCaInput): Promise<EnterpriseCa> {
  const commonName = input.commonName.trim();
  if (!commonName) throw new TypeError('CA commonName must not be empty');
  const keys = (await webcrypto.subtle.generateKey(
    { ...RSA_SHA256, modulusLength: input.keyBits ?? DEFAULT_CA_KEY_BITS, publicExponent: F4 },
    true,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;

  const notBefore = new Date(input.now.getTime() - BACKDATE_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);

  const name: x509.JsonName = [{ CN: [commonName] }];
  if (input.organization?.trim()) name.push({ O: [input.organization.trim()] });

  // RFC 5280 4.2.1.9 / 4.2.1.3: a CA certificate must mark basicConstraints critical and
  // assert keyCertSign; cRLSign keeps revocation lists possible later.
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: RSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  const certificateDer = Buffer.from(cert.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certificatePem: derToPem(certificateDer),
    certificateDer,
    thumbprint: thumbprintOf(certificateDer),
    serialNumber: cert.serialNumber.toUpperCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    privateKeyPkcs8Pem: derToPem(pkcs8, 'PRIVATE KEY'),
  };
}
