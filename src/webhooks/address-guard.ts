import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may not be sent unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES is set: loopback,
 * private (RFC 1918, RFC 4193), carrier-grade NAT (RFC 6598), link-local (cloud metadata
 * lives at 169.254.169.254), unspecified, benchmarking, multicast and reserved ranges.
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true;
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64-free IPv4-compatible forms reach IPv4 hosts.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
  return BLOCKED.check(address, 'ipv6');
}

export class ForbiddenAddressError extends Error {}

/**
 * Every address `host` resolves to, refused when any is forbidden (a name with one public and
 * one private address could be steered to the private one). The sender connects to the address
 * checked here, so a DNS answer that changes between check and connect (rebinding) cannot
 * redirect it.
 */
export async function resolveAllowed(
  host: string,
  allowPrivate: boolean,
): Promise<{ address: string; family: number }> {
  const bare = host.replace(/^\[|\]$/g, '');
  const addresses = isIP(bare)
    ? [{ address: bare, family: isIP(bare) }]
    : await lookup(bare, { all: true, verbatim: true });
  if (!addresses.length) throw new ForbiddenAddressError(`${host} does not resolve`);
  if (!allowPrivate) {
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) {
      throw new ForbiddenAddressError(
        `${host} resolves to ${bad.address}, a loopback, private, link-local or reserved address`,
      );
    }
  }
  return addresses[0];
}
