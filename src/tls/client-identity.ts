import { createHash, X509Certificate } from 'node:crypto';
import type { Request } from 'express';
import type { TLSSocket } from 'node:tls';

export interface ClientIdentity {
  /** SHA-1 of the DER certificate, upper-case hex (as stored on the device). */
  thumbprint: string;
  certificate: X509Certificate;
  via: 'tls' | 'proxy-header';
}

export interface IdentityOptions {
  clientCertHeader?: string;
  trustedProxies: string[];
}

function normalizeAddress(a: string | undefined): string {
  return (a ?? '').replace(/^::ffff:/, '');
}

function fromDer(der: Buffer, via: ClientIdentity['via']): ClientIdentity | null {
  try {
    const certificate = new X509Certificate(der);
    return {
      thumbprint: createHash('sha1').update(certificate.raw).digest('hex').toUpperCase(),
      certificate,
      via,
    };
  } catch {
    return null;
  }
}

/**
 * The TLS client certificate the device presented (management-session.md §1.3). Behind a
 * TLS-terminating proxy (opt-in), the URL-encoded PEM from the configured header — accepted only
 * when the connection comes from a configured proxy address; anyone else's copy is ignored.
 */
export function clientIdentity(req: Request, opts: IdentityOptions): ClientIdentity | null {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate === 'function') {
    const peer = socket.getPeerCertificate(false);
    if (peer && peer.raw && peer.raw.length) return fromDer(peer.raw, 'tls');
  }
  if (
    opts.clientCertHeader &&
    opts.trustedProxies.includes(normalizeAddress(req.socket.remoteAddress))
  ) {
    const raw = req.header(opts.clientCertHeader);
    if (!raw) return null;
    let pem: string;
    try {
      pem = decodeURIComponent(raw);
    } catch {
      return null;
    }
    const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
    if (!m) return null;
    return fromDer(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'), 'proxy-header');
  }
  return null;
}
