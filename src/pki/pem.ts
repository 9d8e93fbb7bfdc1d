import { createHash } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\s]*?)-----END \1-----/;

export class PemError extends Error {
  override readonly name = 'PemError';
}

/** Decodes the first PEM block (optionally of the given label) into DER. */
export function pemToDer(pem: string, label?: string): Buffer {
  const match = PEM_BLOCK.exec(pem);
  if (!match) throw new PemError('no PEM block found');
  if (label !== undefined && match[1] !== label) {
    throw new PemError(`expected a PEM ${label}, got ${match[1]}`);
  }
  const der = Buffer.from(match[2].replace(/\s+/g, ''), 'base64');
  if (der.length === 0) throw new PemError('empty PEM block');
  return der;
}

/** RFC 7468 textual encoding: 64-character lines, trailing newline. */
export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Accepts a DER buffer or PEM text and returns DER. */
export function toDer(pemOrDer: string | Buffer, label = 'CERTIFICATE'): Buffer {
  return typeof pemOrDer === 'string' ? pemToDer(pemOrDer, label) : pemOrDer;
}

/**
 * Certificate thumbprint as Windows writes it: SHA-1 of the DER certificate, upper-case hex,
 * no separators (CertificateStore CSP; enrollment.md §6.3).
 */
export function thumbprintOf(certPemOrDer: string | Buffer): string {
  return createHash('sha1').update(toDer(certPemOrDer)).digest('hex').toUpperCase();
}
