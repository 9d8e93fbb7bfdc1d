/*
 * Management sessions end to end: `npm run bench:syncml [-- --devices 50 --duration 6 --rounds 3]`.
 *
 * In one run (issue 3 §6):
 *  1. the codec: parse+build MB/s at ~2/20/200 KB next to bare saxes, build next to template
 *     strings (bench/syncml-codec.bench.ts);
 *  2. check-ins per second and p50/p99 latency for N concurrent simulated devices over HTTPS with
 *     client certificates and keep-alive, when idle, when receiving 10 commands and when
 *     returning 10 statuses, next to GET /health with the same clients and concurrency;
 *  3. database round trips of exactly one message of each kind (driver commandStarted events),
 *     with the command names, against the targets (idle ≤ 2; delivering/recording k ≤ 4), and
 *     how one device's messages slow down as the store holds more commands (FerretDB scans);
 *  4. the machine, the store and the command.
 * The app runs in this thread, the devices in a worker thread (bench/lib/syncml-devices.ts), the
 * store on MONGODB_URI (a fresh database, dropped) or embedded in a temporary directory (removed).
 * Stops everything and exits on its own.
 */
import 'reflect-metadata';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { Connection, Types } from 'mongoose';
import { CommandStatus } from '../src/commands/command-status';
import { createEnterpriseCa, issueDeviceCertificate } from '../src/pki';
import type { ResolvedMongo } from '../src/store';
import type { DeviceListener } from '../src/tls/device-listener';
import { startBenchServer } from './lib/bench-server';
import { integerOption } from './lib/options';
import { COMMAND_MIX, commandBatchBody } from './lib/command-mix';
import { formatRows, runCodecBench } from './syncml-codec.bench';
import {
  BenchDevice,
  type BenchIdentity,
  type LoadRequest,
  type LoadResult,
  type LoadWorkerData,
  type Step,
} from './lib/syncml-devices';

const USAGE = `npm run bench:syncml -- [--devices N] [--duration S] [--warmup S] [--rounds N] [--budget S]
  --devices   concurrent simulated devices                               (default 50)
  --duration  seconds of the idle and GET /health loops                  (default 6)
  --warmup    seconds of unmeasured load before each loop                (default 1)
  --rounds    at most this many rounds of "receive 10" + "return 10"     (default 3)
  --budget    no new round starts after this many seconds of rounds      (default 60)`;

interface Options {
  devices: number;
  duration: number;
  warmup: number;
  rounds: number;
  budget: number;
}

/** Commands per device per round in scenarios (b) and (c). */
const PER_ROUND = 10;
/** k of the round-trip counts. */
const COUNT_KS = [1, 10, 30];
/** Store sizes (commands held) of the one-device scaling table. */
const SCALING_SIZES = [2000, 4000];
const TARGET_IDLE = 2;
const TARGET_K = 4;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '50' },
      duration: { type: 'string', default: '6' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      budget: { type: 'string', default: '60' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: keyof Options, min: number, max: number): number =>
    integerOption(values, name, min, max, USAGE);
  return {
    devices: int('devices', 1, 500),
    duration: int('duration', 1, 60),
    warmup: int('warmup', 0, 30),
    rounds: int('rounds', 1, 50),
    budget: int('budget', 1, 3600),
  };
}

/** The shared mix plus one more Get (Copy is refused by Windows: left out). */
const MIX = [
  ...COMMAND_MIX,
  { path: './DevDetail/Ext/Microsoft/OSPlatform', action: 'Get', format: 'chr' },
];

const commandBatch = (k: number): string => commandBatchBody(k, MIX, 'bench:syncml');

interface Harness {
  adminUrl: string;
  deviceUrl: string;
  token: string;
  storeKind: ResolvedMongo['source'];
  db: Connection;
  storeDescription: string;
  listener: DeviceListener;
  /** Every driver command the app starts, as it starts it. */
  onCommand: Set<(e: CommandStartedEvent) => void>;
  /** Every driver command that ends (succeeded or failed), with its duration. */
  onCommandEnd: Set<(e: CommandSucceededEvent | CommandFailedEvent) => void>;
  /** TLS handshakes completed by the device listener so far. */
  handshakes(): number;
  close(): Promise<void>;
}

/** The app (HTTP admin API on a free port + HTTPS device listener) with command monitoring. */
async function startHarness(log: (m: string) => void): Promise<Harness> {
  const server = await startBenchServer({
    mongo: { monitorCommands: true },
    deviceListener: true,
    log,
  });
  const listener = server.devices as DeviceListener;
  const onCommand = new Set<(e: CommandStartedEvent) => void>();
  const onCommandEnd = new Set<(e: CommandSucceededEvent | CommandFailedEvent) => void>();
  const client = server.db.getClient();
  client.on('commandStarted', (e: CommandStartedEvent) => {
    for (const f of onCommand) f(e);
  });
  const ended = (e: CommandSucceededEvent | CommandFailedEvent) => {
    for (const f of onCommandEnd) f(e);
  };
  client.on('commandSucceeded', ended);
  client.on('commandFailed', ended);
  let handshakes = 0;
  listener.server.on('secureConnection', () => handshakes++);
  return {
    adminUrl: server.baseUrl,
    deviceUrl: `https://127.0.0.1:${listener.port}`,
    token: server.token,
    storeKind: server.storeKind,
    db: server.db,
    storeDescription: server.storeDescription,
    listener,
    onCommand,
    onCommandEnd,
    handshakes: () => handshakes,
    close: server.close,
  };
}

async function api(h: Harness, method: 'POST' | 'PATCH', path: string, body: unknown) {
  const res = await fetch(`${h.adminUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${h.token}`, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

interface Fleet {
  slug: string;
  identities: BenchIdentity[];
}

/**
 * One organization and enterprise, `n` devices registered by an administrator with a certificate
 * each (issued by a throw-away CA; one RSA key shared by all of them: only the thumbprints must
 * differ, and 50 RSA key generations would cost seconds).
 */
async function seedFleet(h: Harness, n: number): Promise<Fleet> {
  const slug = `bench-${randomBytes(4).toString('hex')}`;
  const enterprise = `/v1/organizations/${slug}/mdm/windows/enterprise`;
  await api(h, 'POST', '/v1/organizations', { name: `Bench ${slug}`, slug });
  await api(h, 'POST', enterprise, {});
  const ca = await createEnterpriseCa({ commonName: 'bench CA', now: new Date(), keyBits: 2048 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const identities: BenchIdentity[] = [];
  for (let i = 0; i < n; i++) {
    const deviceId = randomBytes(16).toString('hex').toUpperCase();
    const cert = await issueDeviceCertificate({
      ca: { certificatePem: ca.certificatePem, privateKeyPkcs8Pem: ca.privateKeyPkcs8Pem },
      csrPublicKey: publicKey,
      deviceId,
      now: new Date(),
    });
    identities.push({ deviceId, cert: cert.certificatePem, key });
  }
  for (let i = 0; i < n; i += 10) {
    await Promise.all(
      identities.slice(i, i + 10).map((d, j) =>
        api(h, 'POST', `${enterprise}/devices`, {
          deviceId: d.deviceId,
          name: `Bench PC ${i + j + 1}`,
          certificate: d.cert,
        }),
      ),
    );
  }
  return { slug, identities };
}

const queue = (h: Harness, fleet: Fleet, deviceId: string, k: number) =>
  api(
    h,
    'POST',
    `/v1/organizations/${fleet.slug}/mdm/windows/enterprise/devices/${deviceId}/commands/`,
    commandBatch(k),
  );

// ---------------------------------------------------------------------------------------------
// 2. Load

class LoadWorker {
  private readonly worker: Worker;

  constructor(data: LoadWorkerData) {
    const file = join(__dirname, 'lib', 'syncml-devices.ts');
    const project = join(__dirname, '..', 'tsconfig.json');
    // Workers do not inherit ts-node's require hook: register it inside the worker.
    this.worker = new Worker(
      `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(project)} });` +
        `require(${JSON.stringify(file)});`,
      { eval: true, workerData: data },
    );
  }

  run(req: LoadRequest): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.worker.once('error', onError);
      this.worker.once('message', (r: LoadResult) => {
        this.worker.off('error', onError);
        resolve(r);
      });
      this.worker.postMessage(req);
    });
  }

  async stop(): Promise<void> {
    this.worker.postMessage({ kind: 'stop' } satisfies LoadRequest);
    await new Promise((r) => setTimeout(r, 100));
    await this.worker.terminate();
  }
}

/** One measured round of (b) + (c): msg/s and how many commands the store held before it. */
interface RoundInfo {
  stored: number;
  b: number;
  c: number;
  bWall: number;
  cWall: number;
}

/** Deletes finished commands (everything but Pending and Awaiting) and returns how many. */
async function purgeFinished(h: Harness): Promise<number> {
  const r = await h.db
    .collection('win_commands')
    .deleteMany({ status: { $nin: [CommandStatus.Pending, CommandStatus.Awaiting] } });
  return r.deletedCount;
}

interface Segment {
  label: string;
  latencies: number[];
  wallMs: number;
  errors: Record<string, number>;
  handshakes: number;
  dbCommands: number;
  /** Sum of the driver-measured durations of those commands. */
  dbMs: number;
}

/** One timed part: what the worker measured plus the server-side handshakes and DB commands. */
async function timed(h: Harness, w: LoadWorker, label: string, req: LoadRequest): Promise<Segment> {
  let dbCommands = 0;
  let dbMs = 0;
  const count = () => dbCommands++;
  const sum = (e: CommandSucceededEvent | CommandFailedEvent) => (dbMs += e.duration);
  h.onCommand.add(count);
  h.onCommandEnd.add(sum);
  const hs = h.handshakes();
  const r = await w.run(req);
  h.onCommand.delete(count);
  h.onCommandEnd.delete(sum);
  return { label, ...r, handshakes: h.handshakes() - hs, dbCommands, dbMs };
}

function merge(label: string, parts: Segment[]): Segment {
  const errors: Record<string, number> = {};
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  return {
    label,
    latencies: parts.flatMap((p) => p.latencies),
    wallMs: parts.reduce((n, p) => n + p.wallMs, 0),
    errors,
    handshakes: parts.reduce((n, p) => n + p.handshakes, 0),
    dbCommands: parts.reduce((n, p) => n + p.dbCommands, 0),
    dbMs: parts.reduce((n, p) => n + p.dbMs, 0),
  };
}

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const perSecond = (s: Segment) => (s.wallMs > 0 ? (s.latencies.length * 1000) / s.wallMs : 0);

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])));
  return [
    line(rows[0]).join('  ').trimEnd(),
    widths.map((n) => '-'.repeat(n)).join('  '),
    ...rows.slice(1).map((r) => line(r).join('  ').trimEnd()),
  ].join('\n');
}

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');

function loadTable(segments: Segment[]): string {
  return table([
    [
      'scenario',
      'msgs',
      'msg/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'errors',
      'TLS hs',
      'db cmds/msg',
      'db ms/msg',
      'db busy',
    ],
    ...segments.map((s) => {
      const sorted = [...s.latencies].sort((a, b) => a - b);
      const errors = Object.values(s.errors).reduce((n, v) => n + v, 0);
      return [
        s.label,
        String(s.latencies.length),
        f1(perSecond(s)),
        f1(percentile(sorted, 50)),
        f1(percentile(sorted, 99)),
        f1(sorted.at(-1) ?? NaN),
        String(errors),
        String(s.handshakes),
        s.dbCommands ? f1(s.dbCommands / Math.max(1, s.latencies.length)) : '0',
        s.dbCommands ? f1(s.dbMs / Math.max(1, s.latencies.length)) : '-',
        s.wallMs > 0 ? `${((100 * s.dbMs) / s.wallMs).toFixed(0)} %` : '-',
      ];
    }),
  ]);
}

async function runLoadScenarios(
  h: Harness,
  fleet: Fleet,
  o: Options,
  progress: (m: string) => void,
): Promise<{ segments: Segment[]; rounds: RoundInfo[] }> {
  const w = new LoadWorker({
    kind: 'syncml-bench-load',
    serverUrl: h.deviceUrl,
    identities: fleet.identities,
  });
  try {
    const loop = async (op: 'idle' | 'health', label: string) => {
      if (o.warmup > 0) {
        progress(`warming up ${label} (${o.warmup} s)`);
        await w.run({ kind: 'loop', op, durationMs: o.warmup * 1000 });
      }
      progress(`measuring ${label} (${o.duration} s)`);
      return timed(h, w, label, { kind: 'loop', op, durationMs: o.duration * 1000 });
    };
    const idle = await loop('idle', '(a) idle check-in (package 1, nothing queued)');
    const health = await loop('health', 'GET /health (same clients)');
    const receive: Segment[] = [];
    const answer: Segment[] = [];
    const rounds: RoundInfo[] = [];
    const roundsStarted = performance.now();
    for (let round = 1; round <= o.rounds; round++) {
      if (round > 1 && performance.now() - roundsStarted > o.budget * 1000) break;
      // Outside the timed part: the last round's finished commands leave the store (so every
      // round sees the same store size), then PER_ROUND commands per device through the API.
      await purgeFinished(h);
      progress(`round ${round}/${o.rounds}: queueing ${PER_ROUND} commands per device`);
      for (let i = 0; i < fleet.identities.length; i += 25) {
        await Promise.all(
          fleet.identities.slice(i, i + 25).map((d) => queue(h, fleet, d.deviceId, PER_ROUND)),
        );
      }
      const stored = await h.db.collection('win_commands').countDocuments();
      progress(`round ${round}/${o.rounds}: (b) receive, then (c) return`);
      const b = await timed(h, w, 'b', { kind: 'barrier', op: 'open', expect: PER_ROUND });
      const c = await timed(h, w, 'c', { kind: 'barrier', op: 'answer', expect: 0 });
      receive.push(b);
      answer.push(c);
      rounds.push({ stored, b: perSecond(b), c: perSecond(c), bWall: b.wallMs, cWall: c.wallMs });
    }
    const segments = [
      idle,
      merge(`(b) receive ${PER_ROUND} commands (package 1 → ${PER_ROUND} commands)`, receive),
      merge(`(c) return ${PER_ROUND} statuses (+ Results of Gets → Final)`, answer),
      health,
    ];
    return { segments, rounds };
  } finally {
    await w.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Round trips

interface Trips {
  label: string;
  target: number;
  /** Commands started between sending the message and receiving the answer. */
  during: CommandStartedEvent[];
  /** Commands started within AFTER_MS after the answer (listeners finishing late). */
  after: CommandStartedEvent[];
  /** Driver-measured duration of each command, by requestId. */
  durations: Map<number, number>;
  /** Client-measured latency of the message. */
  ms: number;
  note?: string;
}

const AFTER_MS = 200;

async function countTrips(
  h: Harness,
  label: string,
  target: number,
  send: () => Promise<Step>,
  expectCommands: number,
): Promise<Trips> {
  let into: CommandStartedEvent[] = [];
  const rec = (e: CommandStartedEvent) => into.push(e);
  const durations = new Map<number, number>();
  const end = (e: CommandSucceededEvent | CommandFailedEvent) =>
    durations.set(e.requestId, e.duration);
  h.onCommand.add(rec);
  h.onCommandEnd.add(end);
  try {
    const during = into;
    const step = await send();
    const after: CommandStartedEvent[] = [];
    into = after;
    await new Promise((r) => setTimeout(r, AFTER_MS));
    const trips: Trips = { label, target, during, after, durations, ms: step.ms };
    if (step.serverCommands !== expectCommands) {
      trips.note = `answer carried ${step.serverCommands} commands, expected ${expectCommands}`;
    }
    return trips;
  } finally {
    h.onCommand.delete(rec);
    h.onCommandEnd.delete(end);
  }
}

function describeCommand(e: CommandStartedEvent, durations?: Map<number, number>): string {
  const cmd = e.command as Record<string, unknown>;
  const coll = typeof cmd[e.commandName] === 'string' ? ` ${String(cmd[e.commandName])}` : '';
  const n = (k: string) => (Array.isArray(cmd[k]) ? (cmd[k] as unknown[]).length : 0);
  const batch =
    e.commandName === 'update' && n('updates') > 1
      ? ` (${n('updates')} updates)`
      : e.commandName === 'insert' && n('documents') > 1
        ? ` (${n('documents')} docs)`
        : '';
  const ms = durations?.get(e.requestId);
  return `${e.commandName}${coll}${batch}${ms === undefined ? '' : ` ${ms.toFixed(0)}ms`}`;
}

async function countRoundTrips(h: Harness, fleet: Fleet): Promise<Trips[]> {
  const [identity] = fleet.identities;
  const device = new BenchDevice(identity, h.deviceUrl);
  const out: Trips[] = [];
  try {
    // A device's very first check-in also looks at its queue (never drained yet): shown apart.
    out.push(
      await countTrips(h, 'idle, first check-in of the device (info)', NaN, () => device.open(), 0),
    );
    out.push(await countTrips(h, 'idle check-in', TARGET_IDLE, () => device.open(), 0));
    for (const k of COUNT_KS) {
      await queue(h, fleet, identity.deviceId, k);
      out.push(await countTrips(h, `delivering k=${k}`, TARGET_K, () => device.open(), k));
      out.push(
        await countTrips(h, `recording k=${k} statuses`, TARGET_K, () => device.answer(), 0),
      );
    }
    out.push(
      await countTrips(h, 'idle check-in, after the above', TARGET_IDLE, () => device.open(), 0),
    );
  } finally {
    device.close();
  }
  return out;
}

function tripsTable(rows: Trips[]): { text: string; failed: Trips[] } {
  const failed: Trips[] = [];
  const lines = rows.map((t) => {
    const n = t.during.length;
    const info = !Number.isFinite(t.target);
    const pass = !info && n <= t.target && !t.note;
    if (!info && !pass) failed.push(t);
    const seen = t.during.map((e) => describeCommand(e, t.durations)).join(' → ');
    const late = t.after.length
      ? `  [+${t.after.length} after the answer: ${t.after.map((e) => describeCommand(e, t.durations)).join(', ')}]`
      : '';
    const dbMs = t.during.reduce((sum, e) => sum + (t.durations.get(e.requestId) ?? 0), 0);
    return [
      t.label,
      String(n),
      info ? '-' : `≤ ${t.target}`,
      info ? 'info' : pass ? 'PASS' : 'FAIL',
      f1(t.ms),
      f1(dbMs),
      `${seen}${late}${t.note ? `  (${t.note})` : ''}`,
    ];
  });
  return {
    text: table([
      [
        'message',
        'trips',
        'target',
        'mark',
        'msg ms',
        'db ms',
        'commands seen (in order, driver ms)',
      ],
      ...lines,
    ]),
    failed,
  };
}

/** Adds finished commands of an absent device until the store holds `target` commands. */
async function fillStore(h: Harness, target: number): Promise<number> {
  const commands = h.db.collection('win_commands');
  const have = await commands.countDocuments();
  const template = await commands.findOne({});
  if (!template || have >= target) return have;
  const absent = new Types.ObjectId();
  const tag = randomBytes(4).toString('hex');
  for (let i = have; i < target; i += 1000) {
    const docs = Array.from({ length: Math.min(1000, target - i) }, (_, j) => ({
      ...template,
      _id: new Types.ObjectId(),
      cmdId: `fill-${tag}-${i + j}`,
      winDeviceId: absent,
      status: CommandStatus.Acknowledged,
    }));
    await commands.insertMany(docs);
  }
  return commands.countDocuments();
}

interface ScalingRow {
  stored: number;
  idle: Trips;
  receive: Trips;
  answer: Trips;
}

/** One device alone: one idle check-in, one delivery of 10 and one 10-status message, by size. */
async function runScaling(h: Harness, fleet: Fleet): Promise<ScalingRow[]> {
  const [identity] = fleet.identities;
  const device = new BenchDevice(identity, h.deviceUrl);
  const rows: ScalingRow[] = [];
  try {
    await purgeFinished(h);
    for (const size of [0, ...SCALING_SIZES]) {
      const stored = await fillStore(h, size);
      const idle = await countTrips(h, 'idle', NaN, () => device.open(), 0);
      await queue(h, fleet, identity.deviceId, PER_ROUND);
      const receive = await countTrips(h, 'receive', NaN, () => device.open(), PER_ROUND);
      const answer = await countTrips(h, 'return', NaN, () => device.answer(), 0);
      rows.push({ stored, idle, receive, answer });
    }
  } finally {
    device.close();
  }
  return rows;
}

function scalingTable(rows: ScalingRow[]): string {
  const dbMs = (t: Trips) => t.during.reduce((n, e) => n + (t.durations.get(e.requestId) ?? 0), 0);
  const cell = (t: Trips) => `${f1(t.ms)} (${f1(dbMs(t))})${t.note ? ` ${t.note}` : ''}`;
  return table([
    [
      'commands stored',
      'idle check-in ms (db ms)',
      `receive ${PER_ROUND} ms (db ms)`,
      `return ${PER_ROUND} statuses ms (db ms)`,
    ],
    ...rows.map((r) => [String(r.stored), cell(r.idle), cell(r.receive), cell(r.answer)]),
  ]);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = performance.now();
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  const progress = (m: string) => console.error(`… ${m}`);
  const load0 = loadavg();

  console.log('== 1. Codec (src/syncml/codec), single thread, no server running ==\n');
  progress('codec benchmark (~15 s)');
  const codec = await runCodecBench();
  console.log(formatRows(codec));
  console.log(
    '(× slower: codec time / baseline time on the same input; parse+build = parseSyncml then ' +
      'buildSyncml of the parsed message, MB/s of input)\n',
  );

  progress('starting the store and the app');
  const h = await startHarness((m) => progress(`[store] ${m}`));
  let stopping = false;
  const interrupt = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping the app and the store…`);
    void h.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));
  try {
    progress(`seeding ${o.devices + 1} devices with certificates`);
    const fleet = await seedFleet(h, o.devices + 1);
    const counting: Fleet = { slug: fleet.slug, identities: fleet.identities.slice(o.devices) };
    const loadFleet: Fleet = { slug: fleet.slug, identities: fleet.identities.slice(0, o.devices) };

    const { segments, rounds } = await runLoadScenarios(h, loadFleet, o, progress);
    console.log(
      `== 2. Check-ins: ${o.devices} concurrent simulated devices over HTTPS (loopback) ==\n`,
    );
    console.log(loadTable(segments));
    const [idle, receive, answer, health] = segments;
    const hz = perSecond(health);
    console.log('');
    for (const s of [idle, receive, answer]) {
      console.log(
        `GET /health / ${s.label.slice(0, 3)} (msg/s): ${f1(hz / Math.max(perSecond(s), 1e-9))}×`,
      );
    }
    console.log(
      `\nclients:  one keep-alive HTTPS agent per device (client certificate, 1 socket), in a worker\n` +
        `          thread; the app in the main thread. TLS handshakes happen in the warm-up: the\n` +
        `          "TLS hs" column counts those the server completed during each timed part (0 =\n` +
        `          none included).\n` +
        `(a), GET /health: closed loop, every device back to back for ${o.duration} s after ${o.warmup} s of warm-up.\n` +
        `(b), (c): ${rounds.length} round(s) (at most ${o.rounds}, none started after ${o.budget} s) of: finished\n` +
        `          commands deleted, ${PER_ROUND} commands queued per device through the REST API (not timed);\n` +
        `          all devices send package 1 at once (b: timed until every answer, each carrying\n` +
        `          ${PER_ROUND} commands, is in); then all send their ${PER_ROUND} Statuses (+ Results) at once (c).\n` +
        `          msg/s = messages / sum of those barrier phases (each phase waits for its slowest).\n` +
        `latency:  one HTTP request/response of one SyncML message, measured by the client.\n` +
        `db cmds/msg, db ms/msg: driver commands started in the timed part, and the sum of their\n` +
        `          driver-measured durations, per message. db busy: that sum / the timed wall time\n` +
        `          (one connection to the store: 100 % = the store is the bottleneck).`,
    );
    console.log(
      `\nper round, (b) / (c): msg/s and phase wall time, with the commands the store held:\n` +
        rounds
          .map(
            (r, i) =>
              `  round ${i + 1}: ${f1(r.b)} / ${f1(r.c)} msg/s, ${f1(r.bWall / 1000)} s / ` +
              `${f1(r.cWall / 1000)} s  (win_commands: ${r.stored})`,
          )
          .join('\n'),
    );
    for (const s of segments) {
      for (const [e, n] of Object.entries(s.errors)) console.log(`ERROR ${s.label}: ${n}× ${e}`);
    }

    progress('counting round trips');
    await purgeFinished(h);
    const trips = await countRoundTrips(h, counting);
    const { text, failed } = tripsTable(trips);
    console.log(
      `\n== 3. Database round trips per message (commandStarted events of exactly one message) ==\n`,
    );
    console.log(text);
    console.log(
      `\n(k = commands queued then delivered in one message; "recording" = the device's message ` +
        `with their k Statuses (+ Results of Gets). Targets: idle ≤ ${TARGET_IDLE}, ` +
        `delivering/recording k ≤ ${TARGET_K} whatever k.)`,
    );
    console.log(
      failed.length
        ? `ROUND TRIPS: FAIL (${failed.map((t) => t.label).join('; ')})`
        : 'ROUND TRIPS: PASS',
    );

    progress(`one device alone at ${SCALING_SIZES.join(', ')} stored commands`);
    const scaling = await runScaling(h, counting);
    console.log(
      `\n-- one device alone, one message of each kind, by commands stored (all devices) --\n`,
    );
    console.log(scalingTable(scaling));
    if (h.storeKind === 'ferretdb') {
      console.log(
        `(FerretDB 1.24/SQLite uses no index for these filters (explain: filterPushdown false, ` +
          `SCAN; only a filter on _id alone is pushed down): every find on win_commands, and ` +
          `every statement of a bulk write, reads the whole collection. Delivering costs 2 such ` +
          `scans; recording k statuses 1 + one per distinct outcome + one per Get carrying data. ` +
          `The embedded store also runs one connection (maxPoolSize=1), so concurrent check-ins ` +
          `queue for it.)`,
      );
    }

    const cpu = cpus();
    console.log('\n== 4. Machine ==\n');
    console.log(
      `machine:  ${cpu.length} cores (${cpu[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
        `${process.platform}/${process.arch}, node ${process.version}, load average at start ` +
        `${load0.map((n) => n.toFixed(2)).join(' ')}`,
    );
    console.log(`store:    ${h.storeDescription}`);
    console.log(
      `command:  npm run bench:syncml${argv.length ? ` -- ${argv.join(' ')}` : ''}  ` +
        `(= --devices ${o.devices} --duration ${o.duration} --warmup ${o.warmup} --rounds ${o.rounds} --budget ${o.budget})`,
    );
    console.log(`run time: ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const loadFailed = segments.some((s) => Object.keys(s.errors).length > 0);
    return failed.length || loadFailed ? 1 : 0;
  } finally {
    await h.close();
  }
}

// Exit on our own even if a library leaves a handle open after everything was closed.
main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  })
  .finally(() => {
    setTimeout(() => process.exit(), 2000).unref();
  });
