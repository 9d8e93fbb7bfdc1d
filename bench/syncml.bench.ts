/*
 * Management sessions end to end: `npm run bench:syncml [-- --devices 50 --duration 6 --rounds 3]`,
 * or the growth table: `npm run bench:syncml -- --growth 10000,100000,1000000 --fleet 1000`.
 * What it measures and how to read it: docs/performance.md.
 *
 * Three processes, so that each CPU figure is one process's own:
 *  - the server under test (bench/lib/server-process.ts: the real app and its HTTPS device
 *    listener on a temporary DATA_DIR and embedded store, or on MONGODB_URI in a fresh database);
 *    its main thread's CPU and its store processes' (its descendants: FerretDB, PostgreSQL's
 *    postmaster and backends) are read from /proc around every timed part;
 *  - the load generator (bench/lib/syncml-devices.ts): the simulated devices;
 *  - this one: seeding through the REST API and the driver, timing, the report.
 * Stops everything and exits on its own.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { MongoClient, ObjectId, type Db, type Document } from 'mongodb';
import { CommandStatus } from '../src/commands/command-status';
import { COMMAND_MIX, commandBatchBody } from './lib/command-mix';
import {
  adminApi,
  createOrganization,
  enterprisePath,
  issueIdentities,
  registerDevices,
  type FleetIdentity,
} from './lib/fleet';
import { integerOption } from './lib/options';
import { clockTicks, cpuMsBetween, sampleServer, type CpuSample } from './lib/proc-cpu';
import { f1, f2, median, parseSizes, percentile, ratio, table } from './lib/report';
import {
  forkServer,
  type SeenCommand,
  type ServerCounters,
  type ServerHandle,
} from './lib/server-process';
import { cloneCommands, countRows, openSqlStore } from './lib/sql-seed';
import { BenchDevice, LoadProcess, type LoadRequest, type Step } from './lib/syncml-devices';
import { formatRows, runCodecBench } from './syncml-codec.bench';

const USAGE = `npm run bench:syncml -- [--devices N] [--duration S] [--warmup S] [--rounds N] [--budget S] [--no-codec]
npm run bench:syncml -- --growth 10000,100000,1000000 [--fleet 1000] [--reps 3]
  --devices   concurrent simulated devices                               (default 50)
  --duration  seconds of the idle and GET /health loops                  (default 6)
  --warmup    seconds of unmeasured load before each loop                (default 1)
  --rounds    at most this many rounds of "receive 10" + "return 10"     (default 3)
  --budget    no new round starts after this many seconds of rounds      (default 60)
  --no-codec  skip the codec benchmark (~15 s)
  --growth    store sizes (commands held; 10k, 1m allowed): the growth table instead
  --fleet     devices enrolled for --growth                              (default 1000)
  --reps      messages and REST reads measured per size (median)         (default 3)`;

interface Options {
  devices: number;
  duration: number;
  warmup: number;
  rounds: number;
  budget: number;
  codec: boolean;
  growth: number[] | null;
  fleet: number;
  reps: number;
}

/** Commands per device per round in scenarios (b) and (c). */
const PER_ROUND = 10;
/** k of the round-trip counts. */
const COUNT_KS = [1, 10, 30];
/**
 * Round-trip targets. The idle check-in target is meant to drop to 1 (one indexed read, issue
 * 10): change it here.
 */
const TARGET_IDLE = 1;
const TARGET_K = 4;

export function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '50' },
      duration: { type: 'string', default: '6' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      budget: { type: 'string', default: '60' },
      'no-codec': { type: 'boolean', default: false },
      growth: { type: 'string' },
      fleet: { type: 'string', default: '1000' },
      reps: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const int = (name: string, min: number, max: number): number =>
    integerOption(values, name, min, max, USAGE);
  let growth: number[] | null = null;
  if (values.growth !== undefined) {
    try {
      growth = parseSizes(values.growth);
    } catch (e) {
      throw new Error(`--growth: ${(e as Error).message}\n${USAGE}`);
    }
  }
  return {
    devices: int('devices', 1, 2000),
    duration: int('duration', 1, 600),
    warmup: int('warmup', 0, 60),
    rounds: int('rounds', 1, 50),
    budget: int('budget', 1, 3600),
    codec: !values['no-codec'],
    growth,
    fleet: int('fleet', 1, 100_000),
    reps: int('reps', 1, 20),
  };
}

/** The shared mix plus one more Get (Copy is refused by Windows: left out). */
const MIX = [
  ...COMMAND_MIX,
  { path: './DevDetail/Ext/Microsoft/OSPlatform', action: 'Get', format: 'chr' },
];

const commandBatch = (k: number): string => commandBatchBody(k, MIX, 'bench:syncml');

interface Harness {
  server: ServerHandle;
  client: MongoClient;
  /** The bench's own connection to the server's database (seeding and purging, never timed). */
  db: Db;
  close(): Promise<void>;
}

async function startHarness(): Promise<Harness> {
  const server = await forkServer();
  try {
    const client = await MongoClient.connect(server.storeUri, { maxPoolSize: 1 });
    return {
      server,
      client,
      db: client.db(),
      close: async () => {
        await client.close().catch(() => undefined);
        await server.close();
      },
    };
  } catch (e) {
    await server.close();
    throw e;
  }
}

interface Fleet {
  slug: string;
  identities: FleetIdentity[];
}

/** Queues k commands for one device through the REST API; returns the batch id. */
async function queue(h: Harness, fleet: Fleet, deviceId: string, k: number): Promise<string> {
  const body = (await adminApi(
    h.server,
    'POST',
    `${enterprisePath(fleet.slug)}/devices/${deviceId}/commands/`,
    commandBatch(k),
  )) as { id?: string; data?: { id?: string } };
  return body.data?.id ?? body.id ?? '';
}

// ---------------------------------------------------------------------------------------------
// 2. Load

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
  /** CPU ms during the timed part: main, process, each store group, and `load`. */
  cpu: Map<string, number>;
}

/** One timed part: what the load process measured, with the server's counters and CPU. */
async function timed(
  h: Harness,
  load: LoadProcess,
  label: string,
  req: LoadRequest,
): Promise<Segment> {
  const c0: ServerCounters = await h.server.counters();
  const s0: CpuSample = sampleServer(h.server.pid);
  const l0 = load.cpuMs();
  const r = await load.run(req);
  const s1 = sampleServer(h.server.pid);
  const l1 = load.cpuMs();
  const c1 = await h.server.counters();
  const cpu = cpuMsBetween(s0, s1);
  cpu.set('load', l1 - l0);
  return {
    label,
    ...r,
    handshakes: c1.handshakes - c0.handshakes,
    dbCommands: c1.dbCommands - c0.dbCommands,
    dbMs: c1.dbMs - c0.dbMs,
    cpu,
  };
}

function merge(label: string, parts: Segment[]): Segment {
  const errors: Record<string, number> = {};
  const cpu = new Map<string, number>();
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + v;
    for (const [k, v] of p.cpu) cpu.set(k, (cpu.get(k) ?? 0) + v);
  }
  const sum = (f: (s: Segment) => number) => parts.reduce((n, p) => n + f(p), 0);
  return {
    label,
    latencies: parts.flatMap((p) => p.latencies),
    wallMs: sum((p) => p.wallMs),
    errors,
    handshakes: sum((p) => p.handshakes),
    dbCommands: sum((p) => p.dbCommands),
    dbMs: sum((p) => p.dbMs),
    cpu,
  };
}

const perSecond = (s: Segment) => (s.wallMs > 0 ? (s.latencies.length * 1000) / s.wallMs : 0);

/** The store groups seen in any segment, in a stable order (ferretdb, postgres, others). */
function storeColumns(segments: readonly Segment[]): string[] {
  const names = new Set<string>();
  for (const s of segments) {
    for (const k of s.cpu.keys()) if (!['main', 'process', 'load'].includes(k)) names.add(k);
  }
  return [...names].sort();
}

function loadTable(segments: Segment[], health: Segment): string {
  const stores = storeColumns(segments);
  const hz = perSecond(health);
  return table([
    [
      'scenario',
      'msgs',
      'msg/s',
      '÷ health',
      'p50 ms',
      'p99 ms',
      'max ms',
      'errors',
      'TLS hs',
      'db trips/msg',
      'db ms/msg',
      'main CPU ms/msg',
      'server CPU ms/msg',
      ...stores.map((n) => `${n} CPU ms/msg`),
      'loadgen CPU ms/msg',
    ],
    ...segments.map((s) => {
      const sorted = [...s.latencies].sort((a, b) => a - b);
      const n = Math.max(1, s.latencies.length);
      const errors = Object.values(s.errors).reduce((sum, v) => sum + v, 0);
      const per = (k: string) => f2((s.cpu.get(k) ?? NaN) / n);
      return [
        s.label,
        String(s.latencies.length),
        f1(perSecond(s)),
        s === health ? '1' : f2(perSecond(s) / hz),
        f1(percentile(sorted, 50)),
        f1(percentile(sorted, 99)),
        f1(sorted.at(-1) ?? NaN),
        String(errors),
        String(s.handshakes),
        f1(s.dbCommands / n),
        s.dbCommands ? f1(s.dbMs / n) : '-',
        per('main'),
        per('process'),
        ...stores.map(per),
        per('load'),
      ];
    }),
  ]);
}

interface RoundInfo {
  stored: number;
  b: number;
  c: number;
  bWall: number;
  cWall: number;
}

async function runLoadScenarios(
  h: Harness,
  fleet: Fleet,
  o: Options,
  progress: (m: string) => void,
): Promise<{ segments: Segment[]; rounds: RoundInfo[] }> {
  const load = new LoadProcess({
    kind: 'syncml-bench-load',
    serverUrl: h.server.deviceUrl,
    identities: fleet.identities,
  });
  try {
    const loop = async (op: 'idle' | 'health', label: string) => {
      if (o.warmup > 0) {
        progress(`warming up ${label} (${o.warmup} s)`);
        await load.run({ kind: 'loop', op, durationMs: o.warmup * 1000 });
      }
      progress(`measuring ${label} (${o.duration} s)`);
      return timed(h, load, label, { kind: 'loop', op, durationMs: o.duration * 1000 });
    };
    const health = await loop('health', 'GET /health (same clients)');
    const idle = await loop('idle', '(a) idle check-in (package 1, nothing queued)');
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
      const b = await timed(h, load, 'b', { kind: 'barrier', op: 'open', expect: PER_ROUND });
      const c = await timed(h, load, 'c', { kind: 'barrier', op: 'answer', expect: 0 });
      receive.push(b);
      answer.push(c);
      rounds.push({ stored, b: perSecond(b), c: perSecond(c), bWall: b.wallMs, cWall: c.wallMs });
    }
    const segments = [
      health,
      idle,
      merge(`(b) receive ${PER_ROUND} commands (package 1 → ${PER_ROUND} commands)`, receive),
      merge(`(c) return ${PER_ROUND} statuses (+ Results of Gets → Final)`, answer),
    ];
    return { segments, rounds };
  } finally {
    await load.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Round trips

interface Trips {
  label: string;
  target: number;
  /** Commands started between sending the message and receiving the answer. */
  during: SeenCommand[];
  /** Commands started within AFTER_MS after the answer (listeners finishing late). */
  after: SeenCommand[];
  /** Commands of the server's background loops meanwhile (not counted; SeenCommand.background). */
  background: SeenCommand[];
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
  settleMs = AFTER_MS,
): Promise<Trips> {
  await h.server.record();
  let step: Step | undefined;
  let mark = 0;
  let seen: SeenCommand[];
  try {
    step = await send();
    mark = await h.server.mark();
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  } finally {
    seen = await h.server.recorded();
  }
  const trips: Trips = {
    label,
    target,
    during: seen.slice(0, mark).filter((c) => !c.background),
    after: seen.slice(mark).filter((c) => !c.background),
    background: seen.filter((c) => c.background),
    ms: step.ms,
  };
  if (step.serverCommands !== expectCommands) {
    trips.note = `answer carried ${step.serverCommands} commands, expected ${expectCommands}`;
  }
  return trips;
}

const showCommand = (c: SeenCommand) =>
  `${c.text}${Number.isFinite(c.ms) ? ` ${c.ms.toFixed(0)}ms` : ''}`;
const dbMsOf = (t: Trips) => t.during.reduce((n, c) => n + (Number.isFinite(c.ms) ? c.ms : 0), 0);

async function countRoundTrips(h: Harness, fleet: Fleet): Promise<Trips[]> {
  const [identity] = fleet.identities;
  const device = new BenchDevice(identity, h.server.deviceUrl);
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
    const late = t.after.length
      ? `  [+${t.after.length} after the answer: ${t.after.map(showCommand).join(', ')}]`
      : '';
    const bg = t.background.length
      ? `  {background, not counted: ${t.background.map(showCommand).join(', ')}}`
      : '';
    return [
      t.label,
      String(n),
      info ? '-' : `target ≤ ${t.target}`,
      info ? 'info' : pass ? 'PASS' : 'FAIL',
      f1(t.ms),
      f1(dbMsOf(t)),
      `${t.during.map(showCommand).join(' → ')}${late}${bg}${t.note ? `  (${t.note})` : ''}`,
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

// ---------------------------------------------------------------------------------------------
// Growth: one device's messages and REST reads as the store holds more commands.

/** A finished batch of the measured device (real documents) to copy when seeding. */
interface SeedTemplate {
  batch: Document;
  commands: Document[];
}

/** Queues one batch for the device and runs the session to its end: real finished documents. */
async function makeTemplate(h: Harness, fleet: Fleet, device: BenchDevice): Promise<SeedTemplate> {
  const batchId = await queue(h, fleet, device.deviceId, PER_ROUND);
  await device.open();
  await device.answer();
  const batch = await h.db
    .collection('win_command_batches')
    .findOne({ _id: new ObjectId(batchId) });
  const commands = await h.db
    .collection('win_commands')
    .find({ batchId: new ObjectId(batchId) })
    .toArray();
  if (!batch || commands.length !== PER_ROUND) {
    throw new Error(`seeding: the template batch ${batchId} is not in the store`);
  }
  // Copies must not carry webhook outbox entries: the outbox relay would work through every one.
  const strip = ({ outbox: _o, outboxAt: _a, outboxDue: _d, ...doc }: Document): Document => doc;
  return { batch: strip(batch), commands: commands.map(strip) };
}

/** Status of the n-th seeded command: mostly acknowledged, a few failures, 1 in 50 pending. */
function seedStatus(n: number, ofMeasured: boolean): { status: string; statusCode: string | null } {
  if (n % 50 === 7 && !ofMeasured) return { status: CommandStatus.Pending, statusCode: null };
  if (n % 20 === 3) return { status: CommandStatus.CommandNotFound, statusCode: '404' };
  if (n % 33 === 5) return { status: CommandStatus.UnexpectedError, statusCode: '500' };
  return { status: CommandStatus.Acknowledged, statusCode: '200' };
}

const SEED_BATCH_DOCS = 10_000;
const DAY_MS = 86_400_000;

/**
 * Inserts copies of the template until win_commands holds `target` documents: batches of
 * PER_ROUND commands spread round-robin over the fleet's devices (the measured one included: its
 * own history grows too), queued over the last 180 days, with their batch documents. On the
 * embedded PostgreSQL engine PostgreSQL clones them (bench/lib/sql-seed.ts), checked by reading
 * the last clone back through the driver; elsewhere they go through the driver.
 */
async function seedCommands(
  h: Harness,
  template: SeedTemplate,
  deviceIds: readonly ObjectId[],
  measured: ObjectId,
  target: number,
  progress: (m: string) => void,
): Promise<{ stored: number; inserted: number; ms: number; how: string }> {
  const commands = h.db.collection('win_commands');
  const started = performance.now();
  // Counted in SQL where it can be: FerretDB counts by decoding every document (minutes at 1M).
  const sql = await openSqlStore(h.server.storeDataDir);
  try {
    const count = () =>
      sql ? countRows(sql, h.db.databaseName, 'win_commands') : commands.countDocuments();
    const have = await count();
    let how = 'driver';
    if (sql && have < target) {
      how = 'SQL';
      const lastBatch = await cloneCommands(sql, {
        db: h.db.databaseName,
        templateBatchId: (template.batch._id as ObjectId).toHexString(),
        perBatch: PER_ROUND,
        deviceIds: deviceIds.map((d) => d.toHexString()),
        measured: measured.toHexString(),
        first: have,
        count: target - have,
        nowMs: Date.now(),
        spreadOver: target,
        statuses: {
          pending: CommandStatus.Pending,
          notFound: CommandStatus.CommandNotFound,
          unexpected: CommandStatus.UnexpectedError,
          acknowledged: CommandStatus.Acknowledged,
        },
        progress: (done) => progress(`seeded ${done}/${target - have} commands (SQL)`),
      });
      await checkClone(h, template, lastBatch);
    } else {
      await seedThroughDriver(h, template, deviceIds, measured, have, target, progress);
    }
    return {
      stored: await count(),
      inserted: Math.max(0, target - have),
      ms: performance.now() - started,
      how,
    };
  } finally {
    await sql?.end();
  }
}

/** A batch cloned in SQL reads back through the driver as the driver would have written it. */
async function checkClone(h: Harness, template: SeedTemplate, batchHex: string): Promise<void> {
  const batchId = new ObjectId(batchHex);
  const batch = await h.db.collection('win_command_batches').findOne({ _id: batchId });
  const cmds = await h.db
    .collection('win_commands')
    .find({ batchId })
    .sort({ position: 1 })
    .toArray();
  const problems: string[] = [];
  if (!batch) problems.push('batch not found by _id');
  if (batch && !(batch.createdAt instanceof Date)) problems.push('batch createdAt not a Date');
  if (batch && !(batch.winDeviceId instanceof ObjectId))
    problems.push('winDeviceId not an ObjectId');
  if (batch && 'outboxDue' in batch) problems.push('batch carries an outbox');
  if (cmds.length === 0) problems.push('no command found by batchId');
  for (const c of cmds) {
    const t = template.commands.find((x) => x.position === c.position);
    if (!(c._id instanceof ObjectId) || !(c.queuedAt instanceof Date)) problems.push('types');
    if (!batch?.winDeviceId.equals(c.winDeviceId)) problems.push('winDeviceId differs');
    if (JSON.stringify(c.config) !== JSON.stringify(t?.config)) problems.push('config differs');
    if (
      c.status === CommandStatus.Pending ? c.statusCode !== null : typeof c.statusCode !== 'string'
    )
      problems.push(`statusCode ${String(c.statusCode)} for ${String(c.status)}`);
  }
  const byCmdId = cmds[0]
    ? await h.db.collection('win_commands').findOne({ cmdId: cmds[0].cmdId })
    : null;
  if (cmds[0] && !byCmdId?._id.equals(cmds[0]._id)) problems.push('not found by cmdId');
  if (problems.length)
    throw new Error(`seeding: SQL clones read back wrong: ${problems.join('; ')}`);
}

async function seedThroughDriver(
  h: Harness,
  template: SeedTemplate,
  deviceIds: readonly ObjectId[],
  measured: ObjectId,
  have: number,
  target: number,
  progress: (m: string) => void,
): Promise<void> {
  const commands = h.db.collection('win_commands');
  const batches = h.db.collection('win_command_batches');
  const tag = randomBytes(4).toString('hex');
  const now = Date.now();
  let n = have;
  while (n < target) {
    const cmdDocs: Document[] = [];
    const batchDocs: Document[] = [];
    while (cmdDocs.length < SEED_BATCH_DOCS && n < target) {
      const winDeviceId = deviceIds[((n / PER_ROUND) % deviceIds.length) | 0];
      const ofMeasured = winDeviceId.equals(measured);
      const batchId = new ObjectId();
      const queuedAt = new Date(now - 180 * DAY_MS + (n / target) * 179 * DAY_MS);
      const doneAt = new Date(queuedAt.getTime() + 60_000);
      batchDocs.push({
        ...template.batch,
        _id: batchId,
        winDeviceId,
        name: `seed ${n / PER_ROUND}`,
        createdAt: queuedAt,
        updatedAt: doneAt,
      });
      for (const t of template.commands) {
        if (n >= target) break;
        cmdDocs.push({
          ...t,
          _id: new ObjectId(),
          cmdId: `seed-${tag}-${n}`,
          batchId,
          winDeviceId,
          queuedAt,
          createdAt: queuedAt,
          updatedAt: doneAt,
          sentAt: doneAt,
          receivedAt: doneAt,
          ...seedStatus(n, ofMeasured),
        });
        n++;
      }
    }
    await batches.insertMany(batchDocs, { ordered: false });
    await commands.insertMany(cmdDocs, { ordered: false });
    progress(`seeded ${n - have}/${target - have} commands`);
  }
}

interface GrowthRow {
  stored: number;
  seedMs: number;
  inserted: number;
  /** `SQL` (cloned by PostgreSQL) or `driver`. */
  seedHow: string;
  idle: Trips[];
  receive: Trips[];
  answer: Trips[];
  /** The first read of the list after seeding (each rep: after its batch finished). */
  listFirst: number[];
  list: number[];
  batch: number[];
  /** CPU ms over IDLE_SAMPLE_MS with no device talking: main, process, store groups. */
  idleCpu: Map<string, number>;
}

const IDLE_SAMPLE_MS = 5000;

async function timedGet(h: Harness, path: string): Promise<number> {
  const started = performance.now();
  await adminApi(h.server, 'GET', path);
  return performance.now() - started;
}

async function runGrowth(
  h: Harness,
  o: Options,
  progress: (m: string) => void,
): Promise<GrowthRow[]> {
  const sizes = o.growth ?? [];
  progress(`issuing ${o.fleet} device certificates`);
  const slug = await createOrganization(h.server);
  const identities = await issueIdentities(o.fleet);
  progress(`registering ${o.fleet} devices (1 through the API, the rest through the driver)`);
  await registerDevices(h.server, h.db, slug, identities, 1);
  const fleet: Fleet = { slug, identities };
  const devices = await h.db
    .collection('win_devices')
    .find(
      { deviceId: { $in: identities.map((i) => i.deviceId) } },
      { projection: { _id: 1, deviceId: 1 } },
    )
    .toArray();
  if (devices.length !== o.fleet)
    throw new Error(`${devices.length} of ${o.fleet} devices registered`);
  const [identity] = identities;
  const measured = devices.find((d) => d.deviceId === identity.deviceId)?._id as ObjectId;
  const device = new BenchDevice(identity, h.server.deviceUrl);
  const rows: GrowthRow[] = [];
  try {
    await device.open(); // the first check-in looks at the queue: not one of the measured ones
    const template = await makeTemplate(h, fleet, device);
    const devicePath = `${enterprisePath(slug)}/devices/${identity.deviceId}/commands`;
    for (const size of sizes) {
      const seeded = await seedCommands(
        h,
        template,
        devices.map((d) => d._id as ObjectId),
        measured,
        size,
        progress,
      );
      progress(`${seeded.stored} commands stored: the server idle for ${IDLE_SAMPLE_MS / 1000} s`);
      // What the server and its store spend with no device talking (background loops that scan).
      const c0 = sampleServer(h.server.pid);
      await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
      const idleCpu = cpuMsBetween(c0, sampleServer(h.server.pid));
      progress(`${seeded.stored} commands stored: measuring (${o.reps} reps)`);
      const row: GrowthRow = {
        stored: seeded.stored,
        seedMs: seeded.ms,
        inserted: seeded.inserted,
        seedHow: seeded.how,
        idle: [],
        receive: [],
        answer: [],
        listFirst: [],
        list: [],
        batch: [],
        idleCpu,
      };
      for (let r = 0; r < o.reps; r++) {
        row.idle.push(await countTrips(h, 'idle', NaN, () => device.open(), 0, 0));
        const batchId = await queue(h, fleet, identity.deviceId, PER_ROUND);
        row.receive.push(await countTrips(h, 'receive', NaN, () => device.open(), PER_ROUND, 0));
        row.answer.push(await countTrips(h, 'return', NaN, () => device.answer(), 0, 0));
        // The first read stores the counts of the page's finished batches (decisions.md §46).
        row.listFirst.push(await timedGet(h, `${devicePath}?limit=20`));
        row.list.push(await timedGet(h, `${devicePath}?limit=20`));
        row.batch.push(await timedGet(h, `${devicePath}/${batchId}`));
        progress(
          `  rep ${r + 1}: idle ${f1(row.idle[r].ms)} ms, receive ${f1(row.receive[r].ms)} ms, ` +
            `return ${f1(row.answer[r].ms)} ms, GET list ${f1(row.listFirst[r])} then ` +
            `${f1(row.list[r])} ms, ` +
            `GET batch ${f1(row.batch[r])} ms`,
        );
      }
      rows.push(row);
    }
  } finally {
    device.close();
  }
  return rows;
}

/** `3 % / 40 %`: the main thread's and the store processes' shares of one core, idle. */
function idleShare(cpu: Map<string, number>): string {
  const store = [...cpu].reduce((n, [k, v]) => (k === 'main' || k === 'process' ? n : n + v), 0);
  const pct = (ms: number) => `${((100 * ms) / IDLE_SAMPLE_MS).toFixed(0)} %`;
  return `${pct(cpu.get('main') ?? NaN)} / ${pct(store)}`;
}

function growthTable(rows: GrowthRow[]): string {
  const [first] = rows;
  const msg = (ts: Trips[]) => median(ts.map((t) => t.ms));
  const trips = (ts: Trips[]) => median(ts.map((t) => t.during.length));
  const notes = (r: GrowthRow) =>
    [...r.idle, ...r.receive, ...r.answer].flatMap((t) => (t.note ? [t.note] : []));
  const cols: [string, (r: GrowthRow) => number, ((r: GrowthRow) => number)?][] = [
    ['idle check-in', (r) => msg(r.idle), (r) => trips(r.idle)],
    [`receive ${PER_ROUND}`, (r) => msg(r.receive), (r) => trips(r.receive)],
    [`return ${PER_ROUND}`, (r) => msg(r.answer), (r) => trips(r.answer)],
    ['GET …/commands first', (r) => median(r.listFirst)],
    ['GET …/commands', (r) => median(r.list)],
    ['GET …/commands/:id', (r) => median(r.batch)],
  ];
  return table([
    [
      'commands stored',
      ...cols.flatMap(([name]) => [`${name} ms`, '× first']),
      'trips idle/recv/ret',
      'idle server: main / store CPU',
      'seeding',
    ],
    ...rows.map((r) => [
      String(r.stored),
      ...cols.flatMap(([, f]) => [f1(f(r)), ratio(f(r), f(first))]),
      cols.flatMap(([, , t]) => (t ? [String(t(r))] : [])).join('/'),
      idleShare(r.idleCpu),
      `${r.inserted} in ${f1(r.seedMs / 1000)} s (${r.seedHow})${notes(r).length ? `  ${notes(r).join('; ')}` : ''}`,
    ]),
  ]);
}

// ---------------------------------------------------------------------------------------------

function machine(argv: string[], load0: number[], storeDescription: string, started: number) {
  const cpu = cpus();
  console.log('\n== Machine ==\n');
  console.log(
    `machine:  ${cpu.length} cores (${cpu[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
      `${process.platform}/${process.arch}, node ${process.version}, load average at start ` +
      `${load0.map((n) => n.toFixed(2)).join(' ')}`,
  );
  console.log(`store:    ${storeDescription}`);
  console.log(`command:  npm run bench:syncml${argv.length ? ` -- ${argv.join(' ')}` : ''}`);
  console.log(`run time: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

async function main(): Promise<number> {
  const started = performance.now();
  const argv = process.argv.slice(2);
  const parsed = parseOptions(argv);
  if (parsed === 'help') {
    console.log(USAGE);
    return 0;
  }
  const o = parsed;
  const progress = (m: string) => console.error(`… ${m}`);
  const load0 = loadavg();

  if (o.codec && !o.growth) {
    console.log('== 1. Codec (src/syncml/codec), single thread, no server running ==\n');
    progress('codec benchmark (~15 s)');
    const codec = await runCodecBench();
    console.log(formatRows(codec));
    console.log(
      '(× slower: codec time / baseline time on the same input; parse+build = parseSyncml then ' +
        'buildSyncml of the parsed message, MB/s of input)\n',
    );
  }

  progress('starting the server process (and its store)');
  const h = await startHarness();
  let stopping = false;
  const interrupt = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping the server and the store…`);
    void h.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));
  try {
    if (o.growth) {
      const rows = await runGrowth(h, o, progress);
      console.log(
        `== Growth: one device of ${o.fleet}, one message of each kind, by commands stored ==\n`,
      );
      console.log(growthTable(rows));
      console.log(
        `\n(median of ${o.reps} per size; ms = client-measured latency of one SyncML message or ` +
          `REST read (GET …/devices/:id/commands?limit=20: the device's batches, first page, read ` +
          `twice: "first" stores the counts of the finished batches it finds, the next reads ` +
          `them; GET …/commands/:batchId: one batch); × first: ratio to the first size; trips: ` +
          `driver commands during the message. Seeded: batches of ${PER_ROUND} commands copied ` +
          `from a real finished batch, round-robin over the ${o.fleet} devices (SQL: cloned by ` +
          `PostgreSQL, non-unique indexes rebuilt, then ANALYZE; driver: ${SEED_BATCH_DOCS} ` +
          `documents per insert); mostly Acknowledged, some 404/500, 1 in 50 Pending on other ` +
          `devices. idle server: CPU of its main thread / of its store processes over ` +
          `${IDLE_SAMPLE_MS / 1000} s with no device talking, in % of one core.)`,
      );
      machine(argv, load0, h.server.storeDescription, started);
      return 0;
    }

    progress(`seeding ${o.devices + 1} devices with certificates`);
    const slug = await createOrganization(h.server);
    const identities = await issueIdentities(o.devices + 1);
    await registerDevices(h.server, h.db, slug, identities);
    const counting: Fleet = { slug, identities: identities.slice(o.devices) };
    const loadFleet: Fleet = { slug, identities: identities.slice(0, o.devices) };

    const { segments, rounds } = await runLoadScenarios(h, loadFleet, o, progress);
    console.log(
      `== 2. Check-ins: ${o.devices} concurrent simulated devices over HTTPS (loopback) ==\n`,
    );
    console.log(loadTable(segments, segments[0]));
    console.log(
      `\nprocesses: the server (pid ${h.server.pid}) with its store as child processes, the load ` +
        `generator and this bench: three processes.\n` +
        `clients:  one keep-alive HTTPS agent per device (client certificate, 1 socket), in the load\n` +
        `          process. TLS handshakes happen in the warm-up: "TLS hs" counts those the server\n` +
        `          completed during each timed part (0 = none included).\n` +
        `GET /health, (a): closed loop, every device back to back for ${o.duration} s after ${o.warmup} s of warm-up.\n` +
        `(b), (c): ${rounds.length} round(s) (at most ${o.rounds}, none started after ${o.budget} s) of: finished\n` +
        `          commands deleted, ${PER_ROUND} commands queued per device through the REST API (not timed);\n` +
        `          all devices send package 1 at once (b: timed until every answer, each carrying\n` +
        `          ${PER_ROUND} commands, is in); then all send their ${PER_ROUND} Statuses (+ Results) at once (c).\n` +
        `          msg/s = messages / sum of those barrier phases (each phase waits for its slowest).\n` +
        `÷ health: the scenario's msg/s / GET /health's msg/s in this run.\n` +
        `latency:  one HTTP request/response of one SyncML message, measured by the client.\n` +
        `db trips/msg, db ms/msg: driver commands the server started in the timed part, and the sum\n` +
        `          of their driver-measured durations, per message.\n` +
        `CPU ms/msg: utime+stime from /proc (clock tick ${(1000 / clockTicks()).toFixed(0)} ms) over the timed part, per\n` +
        `          message: main = the server's main thread (the event loop), server = all its\n` +
        `          threads, then each store process group (postgres = postmaster + backends,\n` +
        `          reaped ones included), loadgen = the load process.`,
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
      `\n== 3. Database round trips per message (commands started during exactly one message) ==\n`,
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
    machine(argv, load0, h.server.storeDescription, started);
    const loadFailed = segments.some((s) => Object.keys(s.errors).length > 0);
    return failed.length || loadFailed ? 1 : 0;
  } finally {
    await h.close();
  }
}

if (require.main === module) {
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
}
