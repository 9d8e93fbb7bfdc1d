/*
 * The check-in part of `npm run bench:profiles`: what a profile adds to a device's management
 * session. For each of `devices` devices (each with a client certificate, in one enterprise):
 * an idle check-in (nothing queued: the baseline), then a 20-setting profile (each setting with
 * verify) is planned and handed to reconciliation, and the next check-in delivers every Replace
 * and its read-back Get; then a drift check (20 Gets) rides the following check-in. Printed per
 * kind of check-in: HTTP round trips and time (median and max over the devices), and whether
 * every assignment ended verified.
 */
import { Types } from 'mongoose';
import { APP_CONFIG, type AppConfig } from '../../src/config/app-config';
import { PLAN_BUCKETS } from '../../src/devices/plan-bucket';
import { ProfilePlanner } from '../../src/profiles/profile-planner';
import { ReconcileService } from '../../src/profiles/reconcile.service';
import { SimulatedDevice } from '../../tools/simulator';
import { benchApi as api, seedCertifiedDevices, type BenchServer } from './bench-server';

export const PROFILE_SETTINGS = 20;
const DAY = 86_400_000;

interface Row {
  kind: string;
  trips: number[];
  ms: number[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the part and prints its table; `log` prints a line. */
export async function profileCheckinBench(
  server: BenchServer,
  devices: number,
  log: (m: string) => void,
): Promise<void> {
  if (!server.devices) throw new Error('the check-in part needs the device listener');
  const serverUrl = `https://127.0.0.1:${server.devices.port}`;
  log(`\ncheck-in: seeding ${devices} devices with certificates…`);
  const fleet = await seedCertifiedDevices(server, devices);
  const sims = fleet.devices.map(
    (d) =>
      new SimulatedDevice({
        deviceId: d.deviceId,
        cert: d.cert,
        key: d.key,
        serverUrl,
        insecure: true,
      }),
  );
  const rows: Row[] = [
    { kind: 'idle (nothing queued)', trips: [], ms: [] },
    { kind: `deliver + verify ${PROFILE_SETTINGS} settings`, trips: [], ms: [] },
    { kind: `drift check (${PROFILE_SETTINGS} Gets)`, trips: [], ms: [] },
    { kind: 'idle again', trips: [], ms: [] },
    { kind: `the same ${PROFILE_SETTINGS * 2} commands queued by REST`, trips: [], ms: [] },
  ];
  const session = async (row: Row, sim: SimulatedDevice) => {
    const r = await sim.runSession();
    if (r.warnings.length) throw new Error(`session warnings: ${r.warnings.join('; ')}`);
    row.trips.push(r.exchanges.length);
    row.ms.push(r.durationMs);
  };
  try {
    for (const sim of sims) await session(rows[0], sim);
    const profile = await api(
      server,
      'POST',
      `/v1/organizations/${fleet.slug}/mdm/windows/enterprise/profiles`,
      {
        name: 'Bench check-in profile',
        scope: 'device',
        settings: Array.from({ length: PROFILE_SETTINGS }, (_, i) => ({
          path: `./Device/Vendor/MSFT/Policy/Config/Bench/Setting${i}`,
          format: 'int',
          value: String(i),
          verify: true,
        })),
        targets: { all: true },
      },
    );
    await server.app.get(ProfilePlanner).runUntilIdle();
    // Reconciliation takes every due assignment of the store: another part's would be delivered
    // first, and the figures would wait for them (the planning part discards its own).
    const foreign = await server.db.collection('win_profile_assignments').countDocuments({
      profileId: { $ne: new Types.ObjectId(String(profile.id)) },
      state: { $in: ['pending', 'removing'] },
    });
    if (foreign)
      throw new Error(`${foreign} assignments of other profiles wait for reconciliation`);
    const reconcile = server.app.get(ReconcileService);
    // Until nothing is left to start.
    const drain = async (now?: Date) => {
      for (;;) {
        const p = await reconcile.runOnce(now);
        if (p.delivered + p.removing + p.settled + p.checks === 0) return;
      }
    };
    // Drift checks are read a few planning buckets a pass (decisions.md §53): whole walks, until
    // one queues none.
    const walk = async (now: Date) => {
      const { bucketsPerPass } = server.app.get<AppConfig>(APP_CONFIG).profileReconcile;
      for (let queued = 1; queued > 0;) {
        queued = 0;
        for (let i = 0; i < Math.ceil(PLAN_BUCKETS / bucketsPerPass); i++)
          queued += (await reconcile.runOnce(now)).checks;
      }
      await drain(now);
    };
    await drain();
    for (const sim of sims) await session(rows[1], sim);
    await walk(new Date(Date.now() + DAY + 60_000));
    for (const sim of sims) await session(rows[2], sim);
    for (const sim of sims) await session(rows[3], sim);
    // The reference: the same Replace + Get pairs as a plain batch (no profile, no outcome hook).
    for (const [i, sim] of sims.entries()) {
      await api(
        server,
        'POST',
        `/v1/organizations/${fleet.slug}/mdm/windows/enterprise/devices/${fleet.devices[i].deviceId}/commands`,
        {
          commands: Array.from({ length: PROFILE_SETTINGS }, (_, k) => [
            {
              config: {
                path: `./Device/Vendor/MSFT/Policy/Config/Bench/Rest${k}`,
                action: 'Replace',
                format: 'int',
                value: String(k),
              },
            },
            {
              config: {
                path: `./Device/Vendor/MSFT/Policy/Config/Bench/Rest${k}`,
                action: 'Get',
                format: 'int',
              },
            },
          ]).flat(),
        },
      );
      await session(rows[4], sim);
    }
    const states = await server.db
      .collection('win_profile_assignments')
      .find({ profileId: new Types.ObjectId(String(profile.id)) })
      .project({ state: 1 })
      .toArray();
    const verified = states.filter((s) => s.state === 'verified').length;
    log('\n| check-in | round trips (median / max) | time (median / max) |');
    log('| --- | ---: | ---: |');
    for (const r of rows)
      log(
        `| ${r.kind} | ${median(r.trips)} / ${Math.max(...r.trips)} | ` +
          `${median(r.ms).toFixed(1)} ms / ${Math.max(...r.ms).toFixed(1)} ms |`,
      );
    const extra = median(rows[1].ms) - median(rows[0].ms);
    log(
      `\nextra cost of delivering and verifying ${PROFILE_SETTINGS} settings: ` +
        `${median(rows[1].trips) - median(rows[0].trips)} round trips, ${extra.toFixed(1)} ms ` +
        `(median); ${verified}/${devices} assignments verified`,
    );
    if (verified !== devices) throw new Error(`${devices - verified} assignments not verified`);
  } finally {
    for (const sim of sims) sim.close();
  }
}
