/*
 * Configuration profiles: `npm run bench:profiles [-- --sizes 10000,100000 --batch 1000]`.
 *
 *  1. planning: for each size, that many devices are inserted through the driver (labelled
 *     `bench`), a profile targeting the label is created through the API (the request only
 *     counts and stores the plan: its time is printed), then the planner runs the plan to the
 *     end in PROFILE_PLAN_BATCH_SIZE batches. Printed: request time, planning time, devices/s,
 *     the ratio between the largest and the smallest size (linear planning: ratio ≈ size ratio),
 *     the time of GET …/profiles/:id/status (counts per state and the first page of devices),
 *     and the planner's memory (rss and heap before, at the peak sampled every 20 ms, after).
 *  2. check-in (bench/lib/profile-checkin.ts): round trips and time of an idle check-in, of the
 *     one that delivers and verifies a 20-setting profile, and of a drift check's.
 * The app and the store (embedded in a temporary directory, or MONGODB_URI in a fresh database)
 * run here; everything is stopped at the end. On the embedded FerretDB store 100,000 devices
 * take a long time (its queries scan): use `--sizes 1000,10000` for a quick run, or MONGODB_URI.
 */
import 'reflect-metadata';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { Types } from 'mongoose';
import { ProfilePlanner } from '../src/profiles/profile-planner';
import { insertRawDevices } from '../test/support/device-docs';
import { benchApi as api, startBenchServer, type BenchServer } from './lib/bench-server';
import { integerOption } from './lib/options';
import { profileCheckinBench } from './lib/profile-checkin';

const log = (m: string) => console.log(m);
const USAGE = `npm run bench:profiles -- [--sizes N,N,...] [--batch N]
  --sizes   device counts to plan a profile for, comma-separated   (default 10000,100000)
  --batch   PROFILE_PLAN_BATCH_SIZE, devices per planner batch      (default 1000)
  --checkin devices whose check-ins measure a 20-setting profile     (default 10)`;

export interface BenchContext {
  server: BenchServer;
  sizes: number[];
  batch: number;
  /** Devices whose check-ins the check-in part measures. */
  checkinDevices: number;
}

/** A part of the benchmark: runs against the started server and prints its own lines. */
export interface BenchPart {
  name: string;
  run(ctx: BenchContext): Promise<void>;
}

const MB = 1024 * 1024;
const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;

/** A fresh organization and enterprise with `n` devices written through the driver. */
export async function seedFleet(
  server: BenchServer,
  n: number,
  labels: string[],
): Promise<{ slug: string; orgId: string; enterpriseId: string }> {
  const slug = `bench-${new Types.ObjectId().toHexString().slice(-8)}`;
  const org = await api(server, 'POST', '/v1/organizations', { name: `Bench ${slug}`, slug });
  const ent = await api(server, 'POST', `/v1/organizations/${slug}/mdm/windows/enterprise`, {});
  const at = { orgId: String(org.id), enterpriseId: String(ent.id) };
  await insertRawDevices(server.db, at, n, { labels, deviceId: (i) => `BENCH${slug}${i}` });
  return { slug, orgId: String(org.id), enterpriseId: String(ent.id) };
}

/**
 * The planning part's profile and its assignments, once measured: left `pending`, they are work
 * for reconciliation, which the check-in part drains to deliver its own profile — delivering
 * 100,000 devices' commands first (the part never finished on a 110,000-device store). The
 * devices stay: the check-in part runs in a store of that size.
 */
async function discardPlanned(server: BenchServer, profileId: string): Promise<void> {
  const id = new Types.ObjectId(profileId);
  await server.db.collection('win_profile_assignments').deleteMany({ profileId: id });
  await server.db.collection('win_profiles').deleteOne({ _id: id });
}

interface PlanRow {
  devices: number;
  requestMs: number;
  planMs: number;
  batches: number;
  assignments: number;
  /** GET …/profiles/:id/status (counts and the first page of 20), once planned. */
  statusMs: number;
  rss: [number, number, number];
  heap: [number, number, number];
}

const planning: BenchPart = {
  name: 'planning',
  async run({ server, sizes }) {
    const planner = server.app.get(ProfilePlanner);
    const rows: PlanRow[] = [];
    for (const n of sizes) {
      log(`\nplanning: inserting ${n} devices…`);
      const fleet = await seedFleet(server, n, ['bench']);
      global.gc?.();
      const before = process.memoryUsage();
      const peak = { rss: before.rss, heap: before.heapUsed };
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peak.rss = Math.max(peak.rss, m.rss);
        peak.heap = Math.max(peak.heap, m.heapUsed);
      }, 20);
      const t0 = performance.now();
      const profile = await api(
        server,
        'POST',
        `/v1/organizations/${fleet.slug}/mdm/windows/enterprise/profiles`,
        {
          name: 'Bench profile',
          scope: 'device',
          settings: [
            {
              path: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
              format: 'int',
              value: '0',
            },
          ],
          targets: { labels: ['bench'] },
        },
      );
      const requestMs = performance.now() - t0;
      if (profile.devicesToPlan !== n)
        throw new Error(`devicesToPlan ${String(profile.devicesToPlan)} ≠ ${n}`);
      const t1 = performance.now();
      const batches = await planner.runUntilIdle();
      const planMs = performance.now() - t1;
      clearInterval(sampler);
      const after = process.memoryUsage();
      const assignments = await server.db
        .collection('win_profile_assignments')
        .countDocuments({ profileId: new Types.ObjectId(String(profile.id)) });
      if (assignments !== n) throw new Error(`${assignments} assignments for ${n} devices`);
      const t2 = performance.now();
      const status = await api(
        server,
        'GET',
        `/v1/organizations/${fleet.slug}/mdm/windows/enterprise/profiles/${String(profile.id)}/status?limit=20`,
      );
      const statusMs = performance.now() - t2;
      const counts = status.counts as Record<string, number> | undefined;
      if (counts?.pending !== n)
        throw new Error(`status counts ${JSON.stringify(counts)} ≠ ${n} pending`);
      await discardPlanned(server, String(profile.id));
      rows.push({
        devices: n,
        requestMs,
        planMs,
        batches,
        assignments,
        statusMs,
        rss: [before.rss, peak.rss, after.rss],
        heap: [before.heapUsed, peak.heap, after.heapUsed],
      });
      log(`planning: ${n} devices planned in ${(planMs / 1000).toFixed(2)} s (${batches} batches)`);
    }
    log(
      '\n| devices | POST profile | planning | devices/s | batches | GET status | rss before → peak → after | heap before → peak → after |',
    );
    log('| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
    for (const r of rows)
      log(
        `| ${r.devices} | ${r.requestMs.toFixed(0)} ms | ${(r.planMs / 1000).toFixed(2)} s | ` +
          `${Math.round(r.devices / (r.planMs / 1000))} | ${r.batches} | ${r.statusMs.toFixed(0)} ms | ` +
          `${r.rss.map(mb).join(' → ')} | ${r.heap.map(mb).join(' → ')} |`,
      );
    if (rows.length > 1) {
      const [small, large] = [rows[0], rows[rows.length - 1]];
      log(
        `\nratio ${large.devices}/${small.devices} devices: planning time × ` +
          `${(large.planMs / small.planMs).toFixed(2)} (devices × ${(large.devices / small.devices).toFixed(0)})`,
      );
    }
  },
};

const checkin: BenchPart = {
  name: 'check-in',
  run: ({ server, checkinDevices }) => profileCheckinBench(server, checkinDevices, log),
};

export const PARTS: BenchPart[] = [planning, checkin];

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      sizes: { type: 'string', default: '10000,100000' },
      batch: { type: 'string', default: '1000' },
      checkin: { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    log(USAGE);
    return;
  }
  const batch = integerOption(values, 'batch', 1, 10_000, USAGE);
  const checkinDevices = integerOption(values, 'checkin', 1, 1000, USAGE);
  const sizes = String(values.sizes)
    .split(',')
    .map((s) => integerOption({ size: s.trim() }, 'size', 1, 1_000_000, USAGE))
    .sort((a, b) => a - b);
  const server = await startBenchServer({
    env: {
      PROFILE_PLANNER: 'false',
      PROFILE_RECONCILE_WORKER: 'false',
      PROFILE_PLAN_BATCH_SIZE: String(batch),
    },
    deviceListener: true,
    log,
  });
  try {
    log(`store: ${server.storeDescription}; ${cpus().length} CPUs, ${mb(totalmem())} RAM`);
    for (const part of PARTS) await part.run({ server, sizes, batch, checkinDevices });
  } finally {
    await server.close();
  }
}

if (require.main === module)
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
