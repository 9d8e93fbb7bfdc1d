// npm run simulate -- --server https://127.0.0.1:<DEVICE_PORT> --device <id> --cert <pem> --key <pem>
// Acts as a Windows 10/11 device (tools/simulator): one management session, or N devices for load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  identitiesFromDir,
  identitiesFromManifest,
  IdentityFileError,
  loadSummary,
  randomDeviceId,
  runLoad,
  SimulatedDevice,
  SimulatorError,
  sessionSummary,
  transcriptTable,
  unenrollmentAlert,
  writeIdentities,
  type DeviceBehaviour,
  type DeviceIdentity,
  type Exchange,
  type SessionOptions,
  type SimulatedDeviceOptions,
} from './simulator';
import { ENROLL_USAGE, runEnrollCli } from './simulator/enroll-cli';
import { RENEW_USAGE, runRenewCli } from './simulator/renew-cli';

export const USAGE = `Usage:
  npm run simulate -- --server <url> --device <id> --cert <pem> --key <pem> [options]
  npm run simulate -- --server <url> --cert-dir <dir> [--device <id>] [options]
  npm run simulate -- --server <url> (--cert-dir <dir> | --manifest <json>) [--devices N] [options]
  npm run simulate -- --make-certs <dir> (--device <id> | --devices N)

Acts as a Windows 10/11 device over HTTPS with its client certificate: opens an OMA-DM session
(Alert 1201, LoginStatus, DevInfo), answers every command the server sends, and prints a table of
what it saw and answered (msg, cmdId, verb, target, format, status, value).

Server and TLS
  --server <url>          https://127.0.0.1:<DEVICE_PORT>; a bare origin gets /ManagementServer/MDM.svc,
                          or give the full management URL
  --ca <pem file>         trust this certificate (chain) for the server
  --insecure              do not verify the server certificate (self-signed local one)

One device
  --device <id>           device id: SyncHdr Source and ./DevInfo/DevId
  --cert <pem file>       its client certificate;  --key <pem file>  its private key
  --cert-dir <dir>        instead of --cert/--key: <dir>/<id>.crt and <id>.key, as --enroll --out
                          wrote them; --device picks one, a directory of one device needs none
  --json                  print the whole session result as JSON instead of the table
  --verbose               also print every HTTP exchange (request and response bodies)

Load (N devices at once, each with its own certificate)
  --cert-dir <dir>        one device per <deviceId>.crt + <deviceId>.key pair, in name order
                          (with two or more, or with --devices / --rounds)
  --manifest <json file>  [{"deviceId": "…", "cert": "a.crt", "key": "a.key"}, …]; paths relative
                          to the manifest
  --devices <N>           use the first N devices (default: all); prints sessions/s and p50/p99
  --rounds <M>            sessions per device, one after the other (default 1)

Device behaviour and session (both modes)
  --behaviour <json file> {"values": {"<path>": "v" | {"data", "format", "type"}},
                          "readOnlyPaths": [...], "existingNodes": [...], "failPaths": {"<path>": "500"},
                          "unreadablePaths": [...] (writes accepted, Get 404),
                          "unknownStatus": "404", "execStatus": "200"}
  --max-msg-size <bytes>  send Meta MaxMsgSize in every SyncHdr
  --session-id <id>       SyncHdr SessionID (default: a per-device counter)
  --login-status <s>      user (default), others or none
  --unenroll              add the 1226 user-unenrollment alert to package 1
  --abort-after <n>       answer server message n with Alert 1223 instead of statuses
  --drop-after <n>        stop without answering server message n (a lost session)
  --strict                fail when the server breaks a protocol rule (otherwise: warnings)

Certificates for administrator-registered devices
  --make-certs <dir>      write self-signed client certificates (CN = device id) as
                          <id>.crt/<id>.key plus manifest.json; register each .crt as the device's
                          certificate (POST …/devices), then run --manifest <dir>/manifest.json

Exit codes: 0 ok; 1 a session failed (HTTP error, TLS, unusable answer, rejected header,
warnings with --strict); 2 usage error.`;

export class UsageError extends Error {}

interface Shared {
  server: string;
  trust: { ca?: string; insecure?: boolean };
  device: Pick<SimulatedDeviceOptions, 'behaviour' | 'maxMsgSize'>;
  session: SessionOptions;
}
export type SimulateRequest =
  | { mode: 'help' }
  | { mode: 'session'; shared: Shared; identity: DeviceIdentity; json: boolean; verbose: boolean }
  | { mode: 'load'; shared: Shared; identities: DeviceIdentity[]; rounds: number }
  | { mode: 'make-certs'; dir: string; deviceIds: string[] };

const positive = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new UsageError(`--${name} must be a positive integer`);
  }
  return Number(raw);
};

/** Runs a file reader, turning its failure into a usage error (exit 2). */
function files<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof IdentityFileError || (e as NodeJS.ErrnoException).code) {
      throw new UsageError((e as Error).message);
    }
    if (e instanceof SyntaxError) throw new UsageError(`not JSON: ${e.message}`);
    throw e;
  }
}

/** Parses the command line; throws UsageError with a message fit for the user. */
export function parseSimulateArgs(argv: string[]): SimulateRequest {
  const str = { type: 'string' } as const;
  const bool = { type: 'boolean' } as const;
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        help: { ...bool, short: 'h' },
        server: str,
        device: str,
        cert: str,
        key: str,
        ca: str,
        insecure: bool,
        json: bool,
        verbose: bool,
        'cert-dir': str,
        manifest: str,
        devices: str,
        rounds: str,
        behaviour: str,
        'max-msg-size': str,
        'session-id': str,
        'login-status': str,
        unenroll: bool,
        'abort-after': str,
        'drop-after': str,
        strict: bool,
        'make-certs': str,
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const s = (k: string) => v[k] as string | undefined;
  if (v.help) return { mode: 'help' };
  const devices = positive('devices', s('devices'));
  if (s('make-certs') !== undefined) {
    const one = s('device');
    if (!one && !devices) throw new UsageError('--make-certs needs --device <id> or --devices N');
    const deviceIds = one ? [one] : Array.from({ length: devices ?? 0 }, randomDeviceId);
    return { mode: 'make-certs', dir: s('make-certs') as string, deviceIds };
  }
  const server = s('server');
  if (!server) throw new UsageError('--server <url> is required');
  if (!/^https:\/\/[^/]/i.test(server) || !URL.canParse(server)) {
    throw new UsageError(`--server must be an https:// URL, got ${server}`);
  }
  if (v.insecure && s('ca')) throw new UsageError('--ca and --insecure exclude each other');
  const behaviourFile = s('behaviour');
  const maxMsgSize = positive('max-msg-size', s('max-msg-size'));
  const abortAfter = positive('abort-after', s('abort-after'));
  const dropAfter = positive('drop-after', s('drop-after'));
  const login = s('login-status');
  if (login !== undefined && !['user', 'others', 'none'].includes(login)) {
    throw new UsageError('--login-status must be user, others or none');
  }
  const shared: Shared = {
    server,
    trust: {
      ...(s('ca') && { ca: files(() => readFileSync(s('ca') as string, 'utf8')) }),
      ...(v.insecure && { insecure: true }),
    },
    device: {
      ...(behaviourFile && {
        behaviour: files(() => JSON.parse(readFileSync(behaviourFile, 'utf8')) as DeviceBehaviour),
      }),
      ...(maxMsgSize && { maxMsgSize }),
    },
    session: {
      ...(s('session-id') && { sessionId: s('session-id') }),
      ...(login && { loginStatus: login }),
      ...(v.unenroll && { extraAlerts: [unenrollmentAlert()] }),
      ...(abortAfter && { abortAfterMessages: abortAfter }),
      ...(dropAfter && { dropAnswerForMessage: dropAfter }),
      ...(v.strict && { strict: true }),
    },
  };
  const dir = s('cert-dir');
  const manifest = s('manifest');
  const rounds = positive('rounds', s('rounds'));
  const session = (identity: DeviceIdentity): SimulateRequest => ({
    mode: 'session',
    shared,
    identity,
    json: v.json === true,
    verbose: v.verbose === true,
  });
  if (dir || manifest || devices) {
    if (!dir === !manifest) {
      throw new UsageError('load mode needs exactly one of --cert-dir or --manifest');
    }
    if (s('cert') || s('key')) {
      throw new UsageError(
        '--cert and --key are for one device, not with --cert-dir or --manifest',
      );
    }
    const all = files(() =>
      dir ? identitiesFromDir(dir) : identitiesFromManifest(manifest as string),
    );
    const picked = s('device');
    // One saved identity (what --enroll --out wrote) runs as one session and prints its
    // transcript; --devices or --rounds ask for load figures instead.
    if (picked !== undefined || (all.length === 1 && !devices && !rounds)) {
      if (devices || rounds) {
        throw new UsageError('--device runs one session: not with --devices or --rounds');
      }
      const identity = picked === undefined ? all[0] : all.find((i) => i.deviceId === picked);
      if (!identity) throw new UsageError(`device ${picked} not found in ${dir ?? manifest}`);
      return session(identity);
    }
    const n = devices ?? all.length;
    if (all.length === 0 || all.length < n) {
      throw new UsageError(`${n} device(s) wanted, ${all.length} found in ${dir ?? manifest}`);
    }
    return {
      mode: 'load',
      shared,
      identities: all.slice(0, n),
      rounds: rounds ?? 1,
    };
  }
  const [deviceId, certFile, keyFile] = [s('device'), s('cert'), s('key')];
  if (!deviceId || !certFile || !keyFile) {
    throw new UsageError('--device, --cert and --key are required (or --cert-dir <dir>)');
  }
  return session(
    files(() => ({
      deviceId,
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
    })),
  );
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const deviceFor = (shared: Shared, identity: DeviceIdentity): SimulatedDevice =>
  new SimulatedDevice({ serverUrl: shared.server, ...identity, ...shared.trust, ...shared.device });

function printExchanges(exchanges: readonly Exchange[], io: Io): void {
  for (const e of exchanges) {
    io.out(`>>> POST ${e.url}\n${e.requestBody}\n<<< HTTP ${e.status}\n${e.responseBody}\n`);
  }
}

async function runOne(req: Extract<SimulateRequest, { mode: 'session' }>, io: Io): Promise<number> {
  const device = deviceFor(req.shared, req.identity);
  try {
    const result = await device.runSession(req.shared.session);
    if (req.verbose) printExchanges(result.exchanges, io);
    io.out(
      req.json
        ? JSON.stringify(result, null, 2)
        : `${transcriptTable(result.transcript)}\n\n${sessionSummary(result)}`,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof SimulatorError)) throw e;
    if (req.verbose) printExchanges(e.partial?.exchanges ?? [], io);
    if (e.partial?.transcript.length) io.out(transcriptTable(e.partial.transcript));
    io.err(`simulate: session failed (${e.kind}): ${e.message}`);
    return 1;
  } finally {
    device.close();
  }
}

async function runMany(req: Extract<SimulateRequest, { mode: 'load' }>, io: Io): Promise<number> {
  const devices = req.identities.map((id) => deviceFor(req.shared, id));
  try {
    const report = await runLoad(devices, req.rounds, req.shared.session);
    io.out(loadSummary(report));
    return report.failures ? 1 : 0;
  } finally {
    devices.forEach((d) => d.close());
  }
}

async function makeCerts(
  req: Extract<SimulateRequest, { mode: 'make-certs' }>,
  io: Io,
): Promise<number> {
  const paths = await writeIdentities(req.dir, req.deviceIds);
  req.deviceIds.forEach((id, i) => io.out(`${id}  ${paths[i]}`));
  io.out(`manifest: ${join(req.dir, 'manifest.json')}`);
  return 0;
}

/** The whole CLI: returns the exit code. */
export async function runSimulate(argv: string[], io: Io): Promise<number> {
  // Enrollment (issue 4 §5) has options of its own: tools/simulator/enroll-cli.ts.
  if (argv.includes('--enroll')) return runEnrollCli(argv, io);
  if (argv.includes('--renew')) return runRenewCli(argv, io);
  let req: SimulateRequest;
  try {
    req = parseSimulateArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`simulate: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  switch (req.mode) {
    case 'help':
      io.out(`${USAGE}\n\n${ENROLL_USAGE}\n\n${RENEW_USAGE}`);
      return 0;
    case 'make-certs':
      return makeCerts(req, io);
    case 'load':
      return runMany(req, io);
    case 'session':
      return runOne(req, io);
  }
}

if (require.main === module) {
  const io: Io = {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  };
  runSimulate(process.argv.slice(2), io).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      io.err(`simulate: ${(e as Error).stack ?? String(e)}`);
      process.exitCode = 1;
    },
  );
}
