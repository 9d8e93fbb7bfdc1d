import { X509Certificate } from 'node:crypto';
import { thumbprintOf, toDer } from './pem';

const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';

export type ClientCertificateFailure =
  | 'malformed'
  | 'bad-ca'
  | 'not-issued-by-ca'
  | 'bad-signature'
  | 'not-yet-valid'
  | 'expired'
  | 'not-end-entity'
  | 'not-client-auth';

export type ClientCertificateCheck =
  | { ok: true; thumbprint: string; subjectCn: string; serialNumber: string; notAfter: Date }
  | { ok: false; reason: ClientCertificateFailure };

/**
 * Chain and validity check for a device's TLS client certificate against its enterprise CA
 * (enrollment.md §8). Binding the thumbprint to the SyncHdr DeviceID is the caller's job.
 */
export function verifyClientCertificate(
  certPemOrDer: string | Buffer,
  caCertPem: string,
  now: Date,
): ClientCertificateCheck {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(toDer(caCertPem));
  } catch {
    return { ok: false, reason: 'bad-ca' };
  }
  let cert: X509Certificate;
  let der: Buffer;
  try {
    der = toDer(certPemOrDer);
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, reason: 'malformed' };
  }

  if (!cert.checkIssued(ca)) return { ok: false, reason: 'not-issued-by-ca' };
  if (!cert.verify(ca.publicKey)) return { ok: false, reason: 'bad-signature' };
  if (cert.ca) return { ok: false, reason: 'not-end-entity' };
  // node:crypto's X509Certificate.keyUsage lists the extended key usages (undefined if absent).
  if (cert.keyUsage !== undefined && !cert.keyUsage.includes(CLIENT_AUTH_EKU)) {
    return { ok: false, reason: 'not-client-auth' };
  }

  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    return { ok: false, reason: 'malformed' };
  }
  if (now.getTime() < notBefore.getTime()) return { ok: false, reason: 'not-yet-valid' };
  if (now.getTime() > notAfter.getTime()) return { ok: false, reason: 'expired' };

  return {
    ok: true,
    thumbprint: thumbprintOf(der),
    subjectCn: commonNameOf(cert.subject),
    serialNumber: cert.serialNumber.toUpperCase(),
    notAfter,
  };
}

/** node:crypto renders the subject one `KEY=value` per line. */
function commonNameOf(subject: string): string {
  const line = subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : '';
}
