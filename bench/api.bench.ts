/*
 * REST API throughput: `npm run bench:api [-- --connections 10 --duration 10 --batch 10]`.
 *
 * Starts the real app (request logging off) on a free loopback port, on MONGODB_URI or else on
 * the embedded store in a temporary directory, seeds one organization/enterprise/device (and
 * `--fleet` more devices in it), then
 * runs autocannon against the commands POST (a `--batch`-command batch per request) and against
 * GET /health with the same connections and duration, and prints requests/s, p50/p99 latency
 * and failures for both, and their ratio, and the database round trips of one POST (driver
 * commandStarted events). Stops the app and the store and exits on its own.
 */
import autocannon from 'autocannon';
import type { CommandStartedEvent } from 'mongodb';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { BenchServer, seedBenchDevice, startBenchServer } from './lib/bench-server';
import { integerOption } from './lib/options';
import { cpuMsBetween, sampleServer } from './lib/proc-cpu';
import { insertRawDevices } from '../test/support/device-docs';
import { COMMAND_MIX, commandBatchBody } from './lib/command-mix';

const USAGE = `npm run bench:api -- [--connections N] [--duration S] [--batch N] [--warmup S] [--pipelining N]
  --connections, -c  concurrent connections per run            (default 10)
  --duration, -d     seconds per run                           (default 10)
  --batch, -b        commands per POST                         (default 10)
  --warmup, -w       seconds of unmeasured load before each run (default 1; 0 = none)
  --pipelining, -p   requests in flight per connection         (default 1)
  --fleet            other devices in the organization         (default 0)
  --by               the device in the URL: winDeviceId (its 24-hex id, as the API documents)
                     or deviceId (its Windows device id)       (default winDeviceId)`;

interface BenchOptions {
  connections: number;
  duration: number;
  batch: number;
  warmup: number;
  pipelining: number;
  fleet: number;
  by: 'winDeviceId' | 'deviceId';
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      connections: { type: 'string', short: 'c', default: '10' },
      duration: { type: 'string', short: 'd', default: '10' },
      batch: { type: 'string', short: 'b', default: '10' },
      warmup: { type: 'string', short: 'w', default: '1' },
      pipelining: { type: 'string', short: 'p', default: '1' },
      fleet: { type: 'string', default: '0' },
      by: { type: 'string', default: 'winDeviceId' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: keyof BenchOptions, min: number, max: number): number =>
    integerOption(values, name, min, max, USAGE);
  if (values.by !== 'winDeviceId' && values.by !== 'deviceId') {
    console.error(`--by must be winDeviceId or deviceId\n${USAGE}`);
    process.exit(2);
  }
  return {
    connections: int('connections', 1, 1000),
    duration: int('duration', 1, 3600),
    batch: int('batch', 1, 10000),
    warmup: int('warmup', 0, 600),
    pipelining: int('pipelining', 1, 100),
    fleet: int('fleet', 0, 1_000_000),
    by: values.by,
  };
}

/** The shared mix, plus a Copy: the REST API accepts every action. */
const MIX = [
  ...COMMAND_MIX,
  { path: './Vendor/MSFT/Backup', action: 'Copy', value: './Vendor/MSFT/Source', format: 'chr' },
];

interface Row {
  label: string;
  result: autocannon.Result;
}

async function load(
  options: BenchOptions,
  label: string,
  target: Pick<autocannon.Options, 'url' | 'method' | 'headers' | 'body'>,
): Promise<Row & { storeCpuMs: Map<string, number> }> {
  // The load comes from a worker thread: in the calling thread autocannon would share the event
  // loop with the server it measures.
  const common = {
    connections: options.connections,
    pipelining: options.pipelining,
    workers: 1,
    timeout: 10,
    ...target,
  };
  if (options.warmup > 0) {
    process.stdout.write(`warming up ${label} for ${options.warmup} s… `);
    await autocannon({ ...common, duration: options.warmup });
  }
  process.stdout.write(`measuring ${label} for ${options.duration} s… `);
  // The store's processes are this process's children: their CPU per request holds under load
  // where req/s does not (the app and autocannon share this process, so its own is not shown).
  const before = sampleServer(process.pid);
  const result = await autocannon({ ...common, duration: options.duration, title: label });
  const storeCpuMs = cpuMsBetween(before, sampleServer(process.pid));
  console.log('done');
  return { label, result, storeCpuMs };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [
    line(rows[0]),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

/** The store commands one POST issues, in order (`insert win_commands`, …). */
async function roundTripsOfOnePost(
  server: BenchServer,
  url: string,
  body: string,
): Promise<string[]> {
  const seen: string[] = [];
  const client = server.db.getClient();
  const listener = (e: CommandStartedEvent) => {
    // The webhook worker and the profile planner poll on their own timers meanwhile: their
    // queries are not the POST's.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 80;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    if (stack.includes('/src/webhooks/') || stack.includes('/src/profiles/')) return;
    const collection = e.command[e.commandName];
    seen.push(typeof collection === 'string' ? `${e.commandName} ${collection}` : e.commandName);
  };
  client.on('commandStarted', listener);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      body,
    });
    if (res.status !== 200) throw new Error(`POST answered ${res.status} ${await res.text()}`);
  } finally {
    client.off('commandStarted', listener);
  }
  return seen;
}

function report(
  options: BenchOptions,
  server: BenchServer,
  argv: string[],
  rows: Row[],
  stored: string,
  trips: string[],
): void {
  const [post, health] = rows.map((r) => r.result);
  const cpu = cpus();
  const fmt = (n: number, digits = 0) =>
    n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  // autocannon measures latency in whole milliseconds.
  const ms = (n: number) => (n < 1 ? '<1' : fmt(n));
  console.log('');
  console.log(`command:  npm run bench:api${argv.length ? ` -- ${argv.join(' ')}` : ''}`);
  console.log(
    `          (= --connections ${options.connections} --duration ${options.duration} --batch ${options.batch}` +
      ` --warmup ${options.warmup} --pipelining ${options.pipelining} --fleet ${options.fleet} --by ${options.by})`,
  );
  console.log(
    `machine:  ${cpu.length} cores (${cpu[0]?.model.trim() ?? '?'}), ${fmt(totalmem() / 2 ** 30, 1)} GiB, ${process.platform}/${process.arch}, node ${process.version}`,
  );
  console.log(`store:    ${server.storeDescription}`);
  console.log(
    `load:     ${options.connections} connections × ${options.duration} s per endpoint, pipelining ${options.pipelining}, request logging off`,
  );
  console.log('');
  console.log(
    table([
      [
        'endpoint',
        'req/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'requests',
        '2xx',
        'non-2xx',
        'errors',
        'timeouts',
      ],
      ...rows.map(({ label, result: r }) => [
        label,
        fmt(r.requests.average, 1),
        ms(r.latency.p50),
        ms(r.latency.p99),
        ms(r.latency.max),
        fmt(r.requests.total),
        fmt(r['2xx']),
        fmt(r.non2xx),
        fmt(r.errors),
        fmt(r.timeouts),
      ]),
    ]),
  );
  console.log('');
  const ratio =
    post.requests.average > 0 ? health.requests.average / post.requests.average : Infinity;
  console.log(`ratio health / POST (req/s): ${fmt(ratio, 2)}`);
  console.log(
    `POST throughput in commands: ${fmt(post.requests.average * options.batch, 0)} commands/s`,
  );
  console.log(`stored:   ${stored}`);
  console.log(`round trips of one POST: ${trips.length} (${trips.join(', ')})`);
  if (server.storeKind === 'ferretdb') {
    // Measured: FerretDB 1.24's SQLite backend pushes down only a filter on _id alone (explain:
    // filterPushdown false, SCAN otherwise). The POST reads organizations, enterprises and
    // devices (scans of small collections) and only writes commands, so it does not slow down
    // as commands accumulate; device check-ins do (npm run bench:syncml).
    console.log(
      'note:     FerretDB/SQLite scans a collection for any filter but {_id}; the POST scans only ' +
        'organizations, enterprises and devices, never win_commands',
    );
  }
  const failures = rows.filter(({ result: r }) => r.non2xx > 0 || r.errors > 0);
  for (const { label, result } of failures) {
    console.log(
      `WARNING: ${label} had non-2xx responses or errors: ${JSON.stringify(result.statusCodeStats)}`,
    );
  }
}

/** `n` more devices in the bench device's organization, written through the driver. */
async function seedFleet(
  server: BenchServer,
  at: { orgId: string; enterpriseId: string },
  n: number,
): Promise<void> {
  if (!n) return;
  await insertRawDevices(server.db, at, n, { deviceId: (i) => `FLEET${i}` });
  console.log(`[fleet] ${n} more devices in the organization`);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const server = await startBenchServer({
    env: { COMMANDS_MAX_PER_BATCH: String(Math.max(100, options.batch)) },
    // Round trips of one POST are counted from the driver's commandStarted events.
    mongo: { monitorCommands: true },
    log: (message) => console.log(`[store] ${message}`),
  });
  let stopping = false;
  const interrupt = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping the app and the store…`);
    void server.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));
  try {
    const seeded = await seedBenchDevice(server);
    await seedFleet(server, seeded, options.fleet);
    const inUrl = options.by === 'winDeviceId' ? seeded.id : seeded.deviceId;
    const commandsUrl = `${server.baseUrl}/v1/organizations/${seeded.slug}/mdm/windows/enterprise/devices/${inUrl}/commands/`;
    const trips = await roundTripsOfOnePost(
      server,
      commandsUrl,
      commandBatchBody(options.batch, MIX, 'bench batch'),
    );
    const postRow = await load(options, `POST commands (${options.batch}/batch)`, {
      url: commandsUrl,
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      body: commandBatchBody(options.batch, MIX, 'bench batch'),
    });
    const rows = [
      postRow,
      await load(options, 'GET /health', { url: `${server.baseUrl}/health`, method: 'GET' }),
    ];
    // Proof the POSTs did the real work: what the store holds (warm-up included; requests still
    // in flight when autocannon stopped may add a few).
    const batches = await server.db.collection('win_command_batches').countDocuments();
    const commands = await server.db.collection('win_commands').countDocuments();
    report(options, server, argv, rows, `${batches} batches, ${commands} commands`, trips);
    const posts = postRow.result.requests.total;
    const perPost = [...postRow.storeCpuMs]
      .filter(([name]) => name !== 'main' && name !== 'process')
      .map(([name, ms]) => `${name} ${(ms / posts).toFixed(2)} ms`);
    if (perPost.length && posts > 0)
      console.log(`store CPU per POST (measured part): ${perPost.join(', ')}`);
    return rows.some(({ result: r }) => r['2xx'] === 0) ? 1 : 0;
  } finally {
    await server.close();
  }
}

// Exit on our own even if a library leaves a handle open after everything was closed.
main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  })
  .finally(() => {
    setTimeout(() => process.exit(), 2000).unref();
  });
