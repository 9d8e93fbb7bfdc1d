import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MANAGEMENT_PATH } from '../../src/common/device-protocol';
import { SimulatedDevice } from './device';
import { EnrollmentFaultError } from './enroll';
import { renewDevice, type RenewOptions } from './renew';
import { sessionSummary } from './report';
import { SimulatorError } from './simulator-error';
import type { TlsTrust } from './types';

export const RENEW_USAGE = `Usage:
  npm run simulate -- --renew --server <url> --device <id> [--cert-dir <dir>] [options]

Renews an enrolled device's certificate like Windows (MS-WSTEP RequestType Renew): a new key, its
PKCS#10 in a PKCS#7 signed with the current key, posted to /EnrollmentServer/Enrollment.svc; keeps
the previous files as <id>.crt.old / <id>.key.old, writes the new ones, then runs a management
session with them (the server switches to the new certificate at that first use).

  --server <url>          https://<host>:<DEVICE_PORT>
  --device <id>           the enrolled device id (files <dir>/<id>.crt and <id>.key)
  --cert-dir <dir>        where --enroll stored them (default data/simulator-identities)
  --via tls|pkcs7         tls (default): the current certificate in the TLS handshake too (ROBO);
                          pkcs7: no client certificate, only the request's signature proves it
  --no-session            stop after the renewal
  --ca <pem file> | --insecure   server certificate trust, as for sessions`;

interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** `simulate --renew`: returns the exit code. */
export async function runRenewCli(argv: string[], io: Io): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        renew: { type: 'boolean' },
        server: { type: 'string' },
        device: { type: 'string' },
        'cert-dir': { type: 'string' },
        via: { type: 'string' },
        'no-session': { type: 'boolean' },
        ca: { type: 'string' },
        insecure: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    io.err(`simulate: ${(e as Error).message}\n\n${RENEW_USAGE}`);
    return 2;
  }
  const s = (k: string) => v[k] as string | undefined;
  const server = s('server');
  const deviceId = s('device');
  const via = (s('via') ?? 'tls') as RenewOptions['via'];
  if (!server || !URL.canParse(server) || !deviceId || !['tls', 'pkcs7'].includes(via)) {
    io.err(`simulate: --server, --device and --via tls|pkcs7 are required\n\n${RENEW_USAGE}`);
    return 2;
  }
  const dir = s('cert-dir') ?? join('data', 'simulator-identities');
  const files = { cert: join(dir, `${deviceId}.crt`), key: join(dir, `${deviceId}.key`) };
  let trust: TlsTrust;
  let identity;
  try {
    trust = v.insecure ? { insecure: true } : s('ca') ? { ca: readFileSync(s('ca')!, 'utf8') } : {};
    identity = {
      deviceId,
      cert: readFileSync(files.cert, 'utf8'),
      key: readFileSync(files.key, 'utf8'),
    };
  } catch (e) {
    io.err(`simulate: ${(e as Error).message}`);
    return 2;
  }
  let renewed;
  try {
    renewed = await renewDevice({ server, identity, via, ...trust });
  } catch (e) {
    if (e instanceof EnrollmentFaultError || e instanceof SimulatorError) {
      io.err(`simulate: renewal failed: ${e.message}`);
      return 1;
    }
    throw e;
  }
  renameSync(files.cert, `${files.cert}.old`);
  renameSync(files.key, `${files.key}.old`);
  writeFileSync(files.cert, renewed.identity.cert);
  writeFileSync(files.key, renewed.identity.key, { mode: 0o600 });
  io.out(
    [
      `renewed device ${deviceId} via ${via}`,
      `  certificate  ${renewed.clientThumbprint} (CA ${renewed.caThumbprint})`,
      `  wrote        ${resolve(files.cert)}, ${resolve(files.key)} (previous: .old)`,
    ].join('\n'),
  );
  if (v['no-session']) return 0;
  const device = new SimulatedDevice({
    ...renewed.identity,
    serverUrl: `${new URL(server).origin}${MANAGEMENT_PATH}`,
    ...trust,
  });
  try {
    io.out(`\n${sessionSummary(await device.runSession())}`);
    return 0;
  } catch (e) {
    if (!(e instanceof SimulatorError)) throw e;
    io.err(`simulate: session with the renewed certificate failed (${e.kind}): ${e.message}`);
    return 1;
  } finally {
    device.close();
  }
}
