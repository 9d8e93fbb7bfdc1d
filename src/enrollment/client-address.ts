import { isIP } from 'node:net';

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) → `10.0.0.1`, as the trusted-proxy list is written. */
function normalize(address: string | undefined): string {
  return (address ?? '').trim().replace(/^::ffff:/i, '');
}

/**
 * The enrolling client's address, for the failure counts and the logs. Behind the supported
 * TLS-terminating proxy every device arrives from the proxy's address, so when — and only when —
 * the connection comes from one of `trustedProxies` (DEVICE_TRUSTED_PROXIES, the same rule as the
 * forwarded client certificate in tls/client-identity.ts) the address comes from
 * X-Forwarded-For; from anyone else the header is ignored and the socket address is the client.
 *
 * Of X-Forwarded-For the right-most entry that is not itself a trusted proxy is taken: a proxy
 * appends the address it saw, so entries to its left are whatever the client chose to send
 * (nginx's `$proxy_add_x_forwarded_for` keeps them), and only the right-most one was written by
 * a proxy we trust. With a proxy that replaces the header this is its single, left-most entry.
 * An entry that is not an IP address yields the proxy's own address.
 */
export function enrollmentClientAddress(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: readonly string[],
): string {
  const socket = normalize(socketAddress) || 'unknown';
  if (!forwardedFor || !trustedProxies.includes(socket)) return socket;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map(normalize)
    .filter(Boolean);
  for (let i = entries.length - 1; i >= 0; i--) {
    if (trustedProxies.includes(entries[i])) continue;
    return isIP(entries[i]) ? entries[i] : socket;
  }
  return socket;
}
