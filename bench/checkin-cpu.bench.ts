/*
 * Main-thread CPU of the server per idle check-in: `npm run bench:checkin [-- --devices 20
 * --checkins 4000 --profile]`.
 *
 * The server (the real app and device listener on an embedded store, or MONGODB_URI) runs in
 * this process; the devices run in a child process, so the load generator's own CPU (TLS, XML)
 * is not counted. The figure is utime+stime of the server's main thread from
 * /proc/<pid>/task/<pid>/stat over the measured check-ins, divided by their number; database
 * round trips per check-in come from the driver's commandStarted events. `--profile` also takes
 * a V8 CPU profile of the measured phase (inspector, same as node --cpu-prof) and prints the top
 * self-time functions (`--profile-out file.cpuprofile` keeps it); the profiler's own overhead makes that run's CPU figure higher.
 *
 * Under ts-node every captured stack trace goes through source-map-support, which inflates the
 * figure several times; for numbers comparable with production run it compiled:
 *   npx tsc -p tsconfig.json --outDir /tmp/mullion-bench-js --incremental false && \
 *   node /tmp/mullion-bench-js/bench/checkin-cpu.bench.js
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import type { CommandStartedEvent } from 'mongodb';
import { seedCertifiedDevices, startBenchServer, type BenchServer } from './lib/bench-server';
import { BenchDevice, type BenchIdentity } from './lib/syncml-devices';

interface DriveRequest {
  url: string;
  identities: BenchIdentity[];
  warmup: number;
  checkins: number;
}

type DriverMessage =
  { kind: 'warm' } | { kind: 'done'; checkins: number } | { kind: 'error'; message: string };

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const BASELINE_MS = 10_000;

/** utime + stime of the process's main thread, in ms. */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / TICKS_PER_SECOND;
}

async function seed(server: BenchServer, n: number): Promise<BenchIdentity[]> {
  const { devices } = await seedCertifiedDevices(server, n, 'CPU');
  return devices.map(({ deviceId, cert, key }) => ({ deviceId, cert, key }));
}

// ---- the child: devices, one keep-alive connection each, one message at a time ----

async function drive(req: DriveRequest, send: (m: DriverMessage) => void): Promise<void> {
  const devices = req.identities.map((id) => new BenchDevice(id, req.url));
  const run = async (total: number) => {
    let next = 0;
    await Promise.all(
      devices.map(async (d) => {
        while (next < total) {
          next++;
          const step = await d.open();
          if (step.serverCommands) throw new Error(`${d.deviceId}: not idle`);
        }
      }),
    );
  };
  await run(req.warmup);
  send({ kind: 'warm' });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  await run(req.checkins);
  for (const d of devices) d.close();
  send({ kind: 'done', checkins: req.checkins });
}

if (process.argv.includes('--drive')) {
  process.once('message', (req: DriveRequest) => {
    drive(req, (m) => process.send!(m)).catch((e: unknown) =>
      process.send!({ kind: 'error', message: String(e) }),
    );
  });
} else {
  void main();
}

// ---- the parent: the server ----

function nextMessage(child: ChildProcess): Promise<DriverMessage> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: DriverMessage) =>
      m.kind === 'error' ? reject(new Error(m.message)) : resolve(m),
    );
    child.once('exit', (code) => reject(new Error(`driver exited with ${code}`)));
  });
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function topSelfTime(profile: { nodes: ProfileNode[] }, n: number): string[] {
  const byName = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    total += hits;
    const where = f.url
      ? `${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/src\//, 'src/')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byName.set(key, (byName.get(key) ?? 0) + hits);
  }
  const byPackage = new Map<string, number>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    const url = f.url;
    const pkg = !url
      ? f.functionName
      : url.includes('node_modules/')
        ? url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1')
        : url.startsWith('node:')
          ? url
          : url.replace(/^.*\/(src|bench|tools)\/([^/]+).*$/, '$1/$2');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + (node.hitCount ?? 0));
  }
  const share = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)} %`;
  return [
    ...[...byName.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${share(v)}  ${k}`),
    '',
    'by package / source folder:',
    ...[...byPackage.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 25)
      .map(([k, v]) => `${share(v)}  ${k}`),
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '20' },
      checkins: { type: 'string', default: '4000' },
      warmup: { type: 'string', default: '1000' },
      profile: { type: 'boolean', default: false },
      // With --profile: also write the profile (.cpuprofile, for Chrome DevTools or speedscope).
      'profile-out': { type: 'string' },
    },
  });
  const devices = Number(values.devices);
  const checkins = Number(values.checkins);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const server = await startBenchServer({
    mongo: { monitorCommands: true },
    deviceListener: true,
    log,
  });
  let child: ChildProcess | undefined;
  try {
    log(`seeding ${devices} devices`);
    const identities = await seed(server, devices);
    // Compiled (tsc --outDir) runs need no ts-node in the child either.
    const execArgv = __filename.endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
    child = fork(__filename, ['--drive'], { execArgv });
    const url = `https://127.0.0.1:${server.devices!.port}`;
    const warm = nextMessage(child);
    child.send({ url, identities, warmup: Number(values.warmup), checkins } satisfies DriveRequest);
    await warm;
    let handshakes = 0;
    server.devices!.server.on('secureConnection', () => handshakes++);
    let trips = 0;
    server.db.getClient().on('commandStarted', (_e: CommandStartedEvent) => trips++);
    const session = new Session();
    if (values.profile) {
      session.connect();
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.setSamplingInterval', { interval: 100 });
      await post(session, 'Profiler.start');
    }
    // The server's own background work (outbox relay, leases, schedules) costs CPU with no load
    // at all; measured alone first, it is subtracted over the run's wall time.
    const base0 = mainThreadCpuMs();
    const b0 = performance.now();
    await new Promise((r) => setTimeout(r, BASELINE_MS));
    const baselinePerMs = (mainThreadCpuMs() - base0) / (performance.now() - b0);
    const done = nextMessage(child);
    const cpu0 = mainThreadCpuMs();
    const t0 = performance.now();
    child.send('go');
    await done;
    const wall = performance.now() - t0;
    const cpu = mainThreadCpuMs() - cpu0;
    console.log(`store:               ${server.storeDescription}`);
    console.log(
      `idle check-ins:      ${checkins} from ${devices} devices (driven by another process)`,
    );
    console.log(`check-ins/s:         ${((checkins * 1000) / wall).toFixed(0)}`);
    console.log(
      `main-thread CPU:     ${(cpu / checkins).toFixed(3)} ms per idle check-in${values.profile ? ' (profiler on)' : ''}, ` +
        `${((cpu - baselinePerMs * wall) / checkins).toFixed(3)} ms without the no-load baseline ` +
        `(${(baselinePerMs * 1000).toFixed(1)} ms CPU/s)`,
    );
    console.log(`round trips:         ${(trips / checkins).toFixed(2)} per idle check-in`);
    console.log(`TLS handshakes:      ${handshakes} (the devices keep their connections)`);
    if (values.profile) {
      const { profile } = (await post(session, 'Profiler.stop')) as {
        profile: { nodes: ProfileNode[] };
      };
      session.disconnect();
      if (values['profile-out']) writeFileSync(values['profile-out'], JSON.stringify(profile));
      console.log('\ntop self time (share of busy samples):');
      for (const line of topSelfTime(profile, 30)) console.log(line);
    }
  } finally {
    child?.kill();
    await server.close();
  }
}

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))),
  );
}
