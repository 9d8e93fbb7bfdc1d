import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SimulatedDevice } from './device';
import { enrollDevice, EnrollmentFaultError, type EnrollmentResult } from './enroll';
import { sessionSummary, transcriptTable } from './report';
import { SimulatorError } from './simulator-error';
import type { Exchange, TlsTrust } from './types';

export const ENROLL_USAGE = `Usage:
  npm run simulate -- --enroll --server <url> --email <e-mail> --secret <secret> [options]

Enrolls like a Windows device (MS-MDE2): discovery probe and Discover, GetPolicies, then
RequestSecurityToken with a CSR for a fresh RSA key; stores the issued certificate and key, then
runs a management session with them at the management URL of the provisioning document.

  --server <url>          https://<host>:<DEVICE_PORT> (discovery is /EnrollmentServer/Discovery.svc)
  --email <e-mail>        the enrollment username (its domain or the invitation picks the organization)
  --secret <secret>       the enterprise enrollment secret or a one-time invitation token
  --device <id>           the Windows device id (default: 32 random hex digits); an enrolled id re-enrolls
  --out <dir>             where to store <id>.crt, <id>.key (mode 0600) and <id>.ca.pem
                          (default data/simulator-identities; reuse with --cert-dir)
  --no-session            stop after enrollment
  --ca <pem file> | --insecure   server certificate trust, as for sessions
  --verbose               print every HTTP exchange

Exit codes: 0 ok; 1 enrollment or session failed (a SOAP fault prints its subcode); 2 usage error.`;

export interface EnrollCliRequest {
  server: string;
  email: string;
  secret: string;
  deviceId?: string;
  out: string;
  session: boolean;
  trust: TlsTrust;
  /** The --ca file, repeated in the next-session hint. */
  caFile?: string;
  verbose: boolean;
}

interface Io {
  out(text: string): void;
  err(text: string): void;
}

class EnrollUsageError extends Error {}

export function parseEnrollArgs(argv: string[]): EnrollCliRequest {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        enroll: { type: 'boolean' },
        server: { type: 'string' },
        email: { type: 'string' },
        secret: { type: 'string' },
        device: { type: 'string' },
        out: { type: 'string' },
        'no-session': { type: 'boolean' },
        ca: { type: 'string' },
        insecure: { type: 'boolean' },
        verbose: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    throw new EnrollUsageError((e as Error).message);
  }
  const s = (k: string) => v[k] as string | undefined;
  const server = s('server');
  if (!server || !/^https:\/\/[^/]/i.test(server) || !URL.canParse(server)) {
    throw new EnrollUsageError('--server <https:// URL> is required');
  }
  const email = s('email');
  if (!email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email))
    throw new EnrollUsageError('--email <e-mail> is required');
  const secret = s('secret');
  if (!secret)
    throw new EnrollUsageError('--secret <enrollment secret or invitation token> is required');
  const deviceId = s('device');
  if (deviceId !== undefined && !/^[A-Za-z0-9_{}-]{1,64}$/.test(deviceId)) {
    throw new EnrollUsageError(
      '--device must be 1-64 letters, digits, dashes, underscores or braces',
    );
  }
  if (v.insecure && s('ca')) throw new EnrollUsageError('--ca and --insecure exclude each other');
  let ca: string | undefined;
  if (s('ca')) {
    try {
      ca = readFileSync(s('ca') as string, 'utf8');
    } catch (e) {
      throw new EnrollUsageError((e as Error).message);
    }
  }
  return {
    server,
    email,
    secret,
    deviceId,
    out: s('out') ?? join('data', 'simulator-identities'),
    session: v['no-session'] !== true,
    trust: { ...(ca && { ca }), ...(v.insecure && { insecure: true }) },
    caFile: s('ca'),
    verbose: v.verbose === true,
  };
}

function printExchanges(exchanges: readonly Exchange[], io: Io): void {
  for (const e of exchanges) {
    io.out(
      `>>> ${e.requestBody ? 'POST' : 'GET'} ${e.url}\n${e.requestBody}\n<<< HTTP ${e.status}\n${e.responseBody}\n`,
    );
  }
}

/** Writes the identity the way --cert-dir reads it; the key is private to the user. */
export function storeEnrollment(dir: string, r: EnrollmentResult): string[] {
  mkdirSync(dir, { recursive: true });
  const id = r.identity.deviceId;
  const files = [join(dir, `${id}.crt`), join(dir, `${id}.key`), join(dir, `${id}.ca.pem`)];
  writeFileSync(files[0], r.identity.cert);
  writeFileSync(files[1], r.identity.key, { mode: 0o600 });
  writeFileSync(files[2], r.caCertPem);
  return files.map((f) => resolve(f));
}

/** The arguments that run this device's next session from the files just written. */
export function nextSessionArgs(
  req: EnrollCliRequest,
  r: Pick<EnrollmentResult, 'managementUrl' | 'identity'>,
): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const trust = req.trust.insecure ? ['--insecure'] : req.caFile ? ['--ca', req.caFile] : [];
  return ['--server', r.managementUrl, '--cert-dir', req.out, '--device', r.identity.deviceId]
    .concat(trust)
    .map(quote)
    .join(' ');
}

/** `simulate --enroll`: returns the exit code. */
export async function runEnrollCli(argv: string[], io: Io): Promise<number> {
  let req: EnrollCliRequest;
  try {
    req = parseEnrollArgs(argv);
  } catch (e) {
    if (!(e instanceof EnrollUsageError)) throw e;
    io.err(`simulate: ${e.message}\n\n${ENROLL_USAGE}`);
    return 2;
  }
  let enrolled: EnrollmentResult;
  try {
    enrolled = await enrollDevice({
      server: req.server,
      email: req.email,
      password: req.secret,
      deviceId: req.deviceId,
      ...req.trust,
    });
  } catch (e) {
    if (e instanceof EnrollmentFaultError) {
      if (req.verbose) printExchanges([e.exchange], io);
      io.err(`simulate: ${e.message}${e.fault.traceId ? ` (trace ${e.fault.traceId})` : ''}`);
      return 1;
    }
    if (e instanceof SimulatorError) {
      io.err(`simulate: enrollment failed (${e.kind}): ${e.message}`);
      return 1;
    }
    throw e;
  }
  if (req.verbose) printExchanges(enrolled.exchanges, io);
  const files = storeEnrollment(req.out, enrolled);
  io.out(
    [
      `enrolled device ${enrolled.identity.deviceId}`,
      `  certificate  ${enrolled.clientThumbprint} (CA ${enrolled.caThumbprint})`,
      `  management   ${enrolled.managementUrl} (provider ${enrolled.providerId})`,
      ...files.map((f) => `  wrote        ${f}`),
      `  next session npm run simulate -- ${nextSessionArgs(req, enrolled)}`,
    ].join('\n'),
  );
  if (!req.session) return 0;
  const device = new SimulatedDevice({
    ...enrolled.identity,
    serverUrl: enrolled.managementUrl,
    ...req.trust,
  });
  try {
    const result = await device.runSession();
    if (req.verbose) printExchanges(result.exchanges, io);
    io.out(`\n${transcriptTable(result.transcript)}\n\n${sessionSummary(result)}`);
    return 0;
  } catch (e) {
    if (!(e instanceof SimulatorError)) throw e;
    io.err(`simulate: session failed (${e.kind}): ${e.message}`);
    return 1;
  } finally {
    device.close();
  }
}
