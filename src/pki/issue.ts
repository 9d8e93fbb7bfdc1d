import { KeyObject, createPublicKey } from 'node:crypto';
import { BACKDATE_MS } from './ca';
import { derToPem, thumbprintOf } from './pem';
import { MIN_RSA_BITS, RSA_SHA256, importSigningKey, randomSerialHex, x509 } from './x509';

export const DEFAULT_DEVICE_CERT_DAYS = 365;
/** X.520 ub-common-name. */
const MAX_CN_LENGTH = 64;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CaMaterial {
  certificatePem: string;
  privateKeyPkcs8Pem: string;
}

export interface IssueDeviceCertificateInput {
  ca: CaMaterial;
  /** The verified CSR key (ParsedCsr.publicKey) or its SPKI DER. */
  csrPublicKey: KeyObject | Buffer;
  /** Windows DeviceID (AdditionalContext / SyncHdr Source); becomes the subject CN. */
  deviceId: string;
  now: Date;
  validityDays?: number;
}

export interface IssuedCertificate {
  certificatePem: string;
  certificateDer: Buffer;
  /** Upper-case hex, as node:crypto X509Certificate.serialNumber reports it. */
  serialNumber: string;
  /** SHA-1 of the DER, upper-case hex. */
  thumbprint: string;
  notBefore: Date;
  notAfter: Date;
  /** `CN=<deviceId>`; URL-encode it for SSLCLIENTCERTSEARCHCRITERIA. */
  subject: string;
}

/**
 * Device identity certificate, profile of enrollment.md §6.3: CN = DeviceID, SHA-256 with RSA,
 * keyUsage digitalSignature + keyEncipherment (critical), EKU clientAuth, basicConstraints
 * CA:false, SKI/AKI (RFC 5280 4.2.1.1/4.2.1.2), random serial, notBefore backdated 5 minutes.
 */
export async function issueDeviceCertificate(
  input: IssueDeviceCertificateInput,
): Promise<IssuedCertificate> {
  const deviceId = input.deviceId.trim();
  if (!deviceId || deviceId.length > MAX_CN_LENGTH || /\p{Cc}/u.test(deviceId)) {
    throw new TypeError('deviceId must be 1-64 printable characters');
  }
  const validityDays = input.validityDays ?? DEFAULT_DEVICE_CERT_DAYS;
  if (!Number.isInteger(validityDays) || validityDays < 1 || validityDays > 3650) {
    throw new TypeError('validityDays must be an integer between 1 and 3650');
  }
  const spki = toRsaSpki(input.csrPublicKey);

  const caCert = new x509.X509Certificate(input.ca.certificatePem);
  const signingKey = await importSigningKey(input.ca.privateKeyPkcs8Pem);
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const aki = caKeyId
    ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
    : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);

  const notBefore = new Date(input.now.getTime() - BACKDATE_MS);
  const notAfter = new Date(input.now.getTime() + validityDays * DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: [{ CN: [deviceId] }],
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    publicKey: spki,
    signingKey,
    signingAlgorithm: RSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(spki),
      aki,
    ],
  });

  const certificateDer = Buffer.from(cert.rawData);
  return {
    certificatePem: derToPem(certificateDer),
    certificateDer,
    serialNumber: cert.serialNumber.toUpperCase(),
    thumbprint: thumbprintOf(certificateDer),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    subject: cert.subject,
  };
}

function toRsaSpki(key: KeyObject | Buffer): Buffer {
  const keyObject = Buffer.isBuffer(key)
    ? createPublicKey({ key, format: 'der', type: 'spki' })
    : key;
  if (keyObject.type !== 'public' || keyObject.asymmetricKeyType !== 'rsa') {
    throw new TypeError('csrPublicKey must be an RSA public key');
  }
  if ((keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new TypeError(`csrPublicKey must be at least ${MIN_RSA_BITS} bits`);
  }
  return keyObject.export({ format: 'der', type: 'spki' });
}
