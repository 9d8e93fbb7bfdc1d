import { createHash, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
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

/** The client identity of each TLS connection that presented a certificate. */
const tlsIdentities = new WeakMap<TLSSocket, ClientIdentity>();

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
export function clientIdentity(req: IncomingMessage, opts: IdentityOptions): ClientIdentity | null {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate === 'function') {
    const tls = socket as TLSSocket;
    // A TLS connection's client certificate is fixed at its handshake (the device listener
    // allows no renegotiation that could change it): parsed once per connection, not per request.
    const known = tlsIdentities.get(tls);
    if (known !== undefined) return known;
    const peer = tls.getPeerCertificate(false);
    const identity = peer && peer.raw && peer.raw.length ? fromDer(peer.raw, 'tls') : null;
    if (identity) {
      tlsIdentities.set(tls, identity);
      return identity;
    }
  }
  if (
    opts.clientCertHeader &&
    opts.trustedProxies.includes(normalizeAddress(req.socket.remoteAddress))
  ) {
    // Node joins a repeated header with ', ' (as Express's req.header read it).
    const raw = req.headers[opts.clientCertHeader.toLowerCase()];
    if (typeof raw !== 'string' || !raw) return null;
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
