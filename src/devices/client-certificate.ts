import { createHash, X509Certificate } from 'node:crypto';
import { invalidData } from '../common/errors';
import type { DeviceCertificateInfo } from './devices.types';

/** Reads an administrator-supplied PEM; the thumbprint is SHA-1 of the DER, upper-case hex. */
export function certificateInfoFromPem(pem: string, field = 'certificate'): DeviceCertificateInfo {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw invalidData([{ field, message: 'certificate is not a parsable X.509 certificate' }]);
  }
  return {
    thumbprint: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
    serialNumber: cert.serialNumber.toUpperCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    source: 'admin',
  };
}
