/*
 * Webhooks: `npm run bench:webhooks [-- --batches 20 --commands 100]`.
 *
 *  1. events/s delivered end to end to a local HTTPS receiver: each batch queued through the API
 *     (one command.batch.created) and cancelled (one command.status.changed per command), through
 *     the outbox, the relay and the leased dispatcher, until the receiver holds every event id;
 *  2. database round trips (driver commandStarted events), by collection and command: the writes
 *     that change command statuses (the outbox record rides in them: the same count as without
 *     webhooks), then the relay's and the dispatcher's, per event;
 *  3. the machine and the store.
 * The app, the receiver and the store (embedded in a temporary directory, or MONGODB_URI in a
 * fresh database) run here; everything is stopped at the end.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { createSelfSignedServerCertificate } from '../src/tls/self-signed';
import { seedBenchDevice, startBenchServer, type BenchServer } from './lib/bench-server';
import { integerOption } from './lib/options';

const log = (m: string) => console.log(m);
const USAGE = `npm run bench:webhooks -- [--batches N] [--commands N]
  --batches   batches queued and cancelled through the API            (default 5) 
  --commands  commands per batch (1-100)                              (default 100)`;

interface Receiver {
  url: string;
  ids: Set<string>;
  requests: number;
  waitFor(n: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(dir: string): Promise<{ receiver: Receiver; caFile: string }> {
  const { certPem, keyPem } = await createSelfSignedServerCertificate(['127.0.0.1']);
  const caFile = join(dir, 'receiver.pem');
  writeFileSync(caFile, certPem);
  const ids = new Set<string>();
  let waiting: { n: number; resolve: () => void } | null = null;
  const receiver: Receiver = {
    url: '',
    ids,
    requests: 0,
    waitFor: (n) =>
      new Promise<void>((resolve) => {
        if (ids.size >= n) resolve();
        else waiting = { n, resolve };
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      receiver.requests++;
      ids.add(String(req.headers['mullion-event-id']));
      res.writeHead(200).end();
      if (waiting && ids.size >= waiting.n) waiting.resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { receiver, caFile };
}

async function api(
  server: BenchServer,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { data: Record<string, unknown> };
  if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json.data;
}

/** Driver commands by phase: `<command> <collection>` → count. */
type Tally = Map<string, number>;
function tallyOf(e: CommandStartedEvent): string {
  const collection = e.command[e.commandName];
  const key = `${e.commandName} ${typeof collection === 'string' ? collection : '-'}`;
  if (key !== 'find webhook_subscriptions') return key;
  const filter = (e.command.filter ?? {}) as Record<string, unknown>;
  return `${key} ${'_id' in filter ? '(by id)' : '(fan-out)'}`;
}
const DISPATCH =
  /^(findAndModify|update) webhook_deliveries$|^find webhook_subscriptions \(by id\)$|^update webhook_subscriptions$/;
const RELAY =
  /^(find|update) (win_commands|win_command_batches|win_devices|device_events)$|^insert webhook_deliveries$|^find webhook_subscriptions \(fan-out\)$/;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      batches: { type: 'string', default: '5' },
      commands: { type: 'string', default: '100' },
    },
  });
  const batches = integerOption(values, 'batches', 1, 1000, USAGE);
  const perBatch = integerOption(values, 'commands', 1, 100, USAGE);
  const dir = mkdtempSync(join(tmpdir(), 'mullion-bench-webhooks-'));
  const { receiver, caFile } = await startReceiver(dir);
  const server = await startBenchServer({
    env: {
      WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
      WEBHOOK_TLS_CA_FILE: caFile,
      WEBHOOK_POLL_INTERVAL_MS: '20',
      WEBHOOK_CONCURRENCY: '16',
    },
    mongo: { monitorCommands: true },
    log,
  });
  try {
    const tally: Tally = new Map();
    let phase: 'writes' | 'pipeline' | 'off' = 'off';
    const writes: Tally = new Map();
    const started_ = new Map<number, string>();
    const durations: Tally = new Map();
    server.db.getClient().on('commandSucceeded', (e: CommandSucceededEvent) => {
      const key = started_.get(e.requestId);
      if (key) durations.set(key, (durations.get(key) ?? 0) + e.duration);
    });
    server.db.getClient().on('commandStarted', (e: CommandStartedEvent) => {
      started_.set(e.requestId, tallyOf(e));
      const key = tallyOf(e);
      if (phase === 'writes' && key === 'update win_commands')
        writes.set(key, (writes.get(key) ?? 0) + 1);
      if (phase !== 'off') tally.set(key, (tally.get(key) ?? 0) + 1);
    });
    const { slug, deviceId } = await seedBenchDevice(server);
    await api(server, `/v1/organizations/${slug}/webhooks`, { url: receiver.url, events: ['*'] });
    const commandsUrl = `/v1/organizations/${slug}/mdm/windows/enterprise/devices/${deviceId}/commands`;
    const expected = batches * (perBatch + 1);
    const started = performance.now();
    phase = 'pipeline';
    for (let b = 0; b < batches; b++) {
      const commands = Array.from({ length: perBatch }, (_, i) => ({
        config: { path: `./Vendor/MSFT/Bench/${b}/${i}`, action: 'Get', format: 'chr' },
      }));
      const batch = await api(server, commandsUrl, { commands });
      if (b % 5 === 0) log(`  batch ${b + 1}/${batches} queued`);
      phase = 'writes';
      await api(server, `${commandsUrl}/${String(batch.id)}/cancel`, {});
      phase = 'pipeline';
    }
    const queued = performance.now();
    const progress = setInterval(() => log(`  … ${receiver.ids.size}/${expected} received`), 5000);
    await receiver.waitFor(expected);
    clearInterval(progress);
    const done = performance.now();
    // Until every delivery is settled (the receiver answers before the store is updated).
    const deliveries = server.db.collection('webhook_deliveries');
    while ((await deliveries.countDocuments({ status: 'delivered' })) < expected)
      await new Promise((resolve) => setTimeout(resolve, 20));
    phase = 'off';
    const seconds = (done - started) / 1000;
    log(`\n== 1. Events delivered to a local HTTPS receiver ==`);
    log(
      `${batches} batches × ${perBatch} commands, queued and cancelled through the API: ${expected} events`,
    );
    log(`received ${receiver.ids.size} distinct event ids in ${receiver.requests} requests`);
    log(
      `queueing took ${((queued - started) / 1000).toFixed(2)} s; last event received after ${seconds.toFixed(2)} s`,
    );
    log(
      `=> ${(expected / seconds).toFixed(0)} events/s end to end (outbox → relay → dispatcher → receiver)`,
    );

    log(`\n== 2. Database round trips ==`);
    const cancelUpdates = [...writes.values()].reduce((a, b) => a + b, 0);
    log(
      `status writes: ${cancelUpdates} update(s) on win_commands for ${batches} cancels of ${perBatch} commands ` +
        `(${(cancelUpdates / batches).toFixed(1)} per cancel); the outbox record is in the same update: +0 round trips per status`,
    );
    const rows = [...tally.entries()].sort((a, b) => b[1] - a[1]);
    const relay = rows.filter(([k]) => RELAY.test(k)).reduce((a, [, n]) => a + n, 0);
    const dispatch = rows.filter(([k]) => DISPATCH.test(k)).reduce((a, [, n]) => a + n, 0);
    log(`  ${'command collection'.padEnd(42)} ${'count'.padStart(7)} ${'mean ms'.padStart(8)}`);
    for (const [k, n] of rows)
      log(
        `  ${k.padEnd(42)} ${String(n).padStart(7)} ${((durations.get(k) ?? 0) / n).toFixed(1).padStart(8)}`,
      );
    const sent = await deliveries.find({}, { projection: { lastLatencyMs: 1 } }).toArray();
    const latency =
      sent.reduce((a, d) => a + Number(d.lastLatencyMs ?? 0), 0) / Math.max(1, sent.length);
    log(`mean HTTPS attempt latency (connect, TLS, POST, answer): ${latency.toFixed(1)} ms`);
    log(
      `relay (read records, fan out, store deliveries, clear): ${relay} → ${(relay / expected).toFixed(2)} per event`,
    );
    log(
      `dispatcher (claim, subscription, settle): ${dispatch} → ${(dispatch / expected).toFixed(2)} per event`,
    );
    log(
      `(idle polls included; the API's queries and the bench's own counts are in the table, not in the sums)`,
    );

    log(`\n== 3. Machine ==`);
    log(
      `${cpus().length} × ${cpus()[0]?.model ?? '?'}; node ${process.version}; store: ${server.storeDescription}`,
    );
  } finally {
    await server.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
