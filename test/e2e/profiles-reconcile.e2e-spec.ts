import type { CommandStartedEvent } from 'mongodb';
import { Types } from 'mongoose';
import { CommandOutcomeHooks } from '../../src/commands/command-outcomes';
import { CommandsService } from '../../src/commands/commands.service';
import { APP_CONFIG, AppConfig } from '../../src/config/app-config';
import { PLAN_BUCKETS } from '../../src/devices/plan-bucket';
import { ProfilePlanner } from '../../src/profiles/profile-planner';
import { ProfilesRepository } from '../../src/profiles/profiles.repository';
import { ReconcileRepository } from '../../src/profiles/reconcile.repository';
import { ReconcileService } from '../../src/profiles/reconcile.service';
import type { DeviceBehaviour } from '../../tools/simulator/types';
import { bearer, startTestApp, TestApp } from '../support/app';
import {
  ADMX_PATH,
  admxValue,
  expectChunkedDelivery,
  sessionWithMaxMsgSize,
  SMALL_MAX_MSG,
} from '../support/large-values';
import { createProfile, profilesUrl } from '../support/profiles';
import { managedDevice, simulate, type Managed } from '../support/syncml-device';

// Profiles from assignment to verified state, over HTTP with a simulated Windows device. The
// planner and the reconcile worker are driven by the test (no timers, no sleeps).

const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const HOME = './Device/Vendor/MSFT/Policy/Config/Browser/HomePages';
const USER_POLICY = './User/Vendor/MSFT/Policy/Config/Education/PrinterNames';
const DAY = 86_400_000;

interface StoredAssignment {
  _id: Types.ObjectId;
  state: string;
  revision: number;
  stateChangedAt: Date;
  nextVerifyAt: Date | null;
  planBucket?: number;
  settings: {
    path: string;
    state: string;
    statusCode?: string;
    deviceValue?: string;
    verified?: string;
  }[];
}

describe('Profile reconciliation', () => {
  let t: TestApp;
  let planner: ProfilePlanner;
  let reconcile: ReconcileService;
  beforeAll(async () => {
    t = await startTestApp(__filename, { PROFILE_PLANNER: 'false' });
    planner = t.app.get(ProfilePlanner);
    reconcile = t.app.get(ReconcileService);
  });
  afterAll(() => t.close());

  const assignment = async (profileId: string, d: Managed): Promise<StoredAssignment> => {
    const doc = await t.db.collection<StoredAssignment>('win_profile_assignments').findOne({
      profileId: new Types.ObjectId(profileId),
      winDeviceId: new Types.ObjectId(d.winDeviceId),
    });
    if (!doc) throw new Error('no assignment');
    return doc;
  };

  const profileCommands = (profileId: string) =>
    t.db
      .collection<{
        cmdId: string;
        config: { path: string; action: string };
        status: string;
        origin?: { revision: number };
      }>('win_commands')
      .find({ 'origin.id': profileId })
      .sort({ queuedAt: 1, position: 1 })
      .toArray();

  /** A profile for this one device, planned and handed to reconciliation. */
  async function apply(d: Managed, over: Record<string, unknown>) {
    const p = await createProfile(t, d, { targets: { deviceIds: [d.winDeviceId] }, ...over });
    await planner.runUntilIdle();
    await reconcile.runOnce();
    return p;
  }

  const twoSettings = {
    settings: [
      { path: CAMERA, format: 'int', value: '0', verify: true },
      { path: HOME, format: 'chr', value: 'https://intranet.example', verify: true },
    ],
  };

  it('delivers, reads back and reports verified; the commands show in the device history with their origin', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    const delivering = await assignment(p.id, d);
    expect(delivering.state).toBe('delivering');
    expect((await profileCommands(p.id)).map((c) => `${c.config.action} ${c.config.path}`)).toEqual(
      [`Replace ${CAMERA}`, `Get ${CAMERA}`, `Replace ${HOME}`, `Get ${HOME}`],
    );

    const sim = simulate(t, d);
    const before = Date.now();
    await sim.runSession();
    sim.close();
    expect(sim.valueOf(CAMERA)).toBe('0');
    const a = await assignment(p.id, d);
    expect(a.state).toBe('verified');
    expect(a.settings).toEqual([
      { path: CAMERA, state: 'verified', statusCode: '200', verified: 'yes' },
      { path: HOME, state: 'verified', statusCode: '200', verified: 'yes' },
    ]);
    expect(a.nextVerifyAt!.getTime()).toBeGreaterThanOrEqual(before + DAY);

    const history = await t.http
      .get(`/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}/commands`)
      .set(bearer(d.token));
    expect(history.status).toBe(200);
    expect(history.body.data.docs[0].origin).toEqual({ kind: 'profile', id: p.id, revision: 1 });

    const status = await t.http.get(`${profilesUrl(d)}/${p.id}/status`).set(bearer(d.token));
    expect(status.status).toBe(200);
    expect(status.body.data.counts).toMatchObject({ verified: 1, delivering: 0, failed: 0 });
    // The page's total comes from the counts (decisions.md §56): the same figure.
    expect(status.body.data.devices.totalDocs).toBe(1);
    expect(status.body.data.devices.docs).toEqual([
      expect.objectContaining({ winDeviceId: d.winDeviceId, state: 'verified', failure: null }),
    ]);
    const perDevice = await t.http
      .get(`/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}/profiles`)
      .set(bearer(d.token));
    expect(perDevice.status).toBe(200);
    expect(perDevice.body.data).toEqual([
      expect.objectContaining({
        profileId: p.id,
        state: 'verified',
        revision: 1,
        settings: [
          { path: CAMERA, state: 'verified', statusCode: 200, verified: 'yes' },
          { path: HOME, state: 'verified', statusCode: 200, verified: 'yes' },
        ],
      }),
    ]);
  });

  it('delivers a 100 KiB value across messages (MoreData), reads it back whole and reports verified', async () => {
    const d = await managedDevice(t);
    const value = admxValue(100 * 1024);
    const p = await apply(d, {
      settings: [{ path: ADMX_PATH, format: 'chr', value, verify: true }],
    });
    const { sim, run } = await sessionWithMaxMsgSize(t, d, SMALL_MAX_MSG);
    expect(sim.valueOf(ADMX_PATH)).toBe(value);

    const commands = await profileCommands(p.id);
    expect(commands.map((c) => `${c.config.action} ${c.status}`)).toEqual([
      'Replace Acknowledged',
      'Get Acknowledged',
    ]);
    const minChunks = Math.ceil(Buffer.byteLength(value) / SMALL_MAX_MSG);
    expectChunkedDelivery(run, commands[0].cmdId, minChunks);

    const a = await assignment(p.id, d);
    expect(a.state).toBe('verified');
    expect(a.settings).toEqual([
      { path: ADMX_PATH, state: 'verified', statusCode: '200', verified: 'yes' },
    ]);
  });

  it('applies each transition once: a stale decision, a repeated notification or a second pass changes nothing', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    const repo = t.app.get(ReconcileRepository);
    const stale = (await repo.find(d.orgId, (await assignment(p.id, d))._id.toHexString()))!;
    // A second pass finds nothing to start: the batch is not queued twice.
    expect(await reconcile.runOnce()).toMatchObject({ delivered: 0 });
    expect(await profileCommands(p.id)).toHaveLength(4);

    const sim = simulate(t, d);
    await sim.runSession();
    sim.close();
    const verified = await assignment(p.id, d);
    expect(verified.state).toBe('verified');
    // The decision made from the delivering copy no longer applies, and neither does a replay.
    expect(await reconcile.settle(stale, new Date())).toBe(false);
    await reconcile.onOutcomes({
      organizationId: d.orgId,
      winDeviceId: d.winDeviceId,
      batches: [{ batchId: stale.batchId!, origin: { kind: 'profile', id: p.id, revision: 1 } }],
    });
    expect(await assignment(p.id, d)).toEqual(verified);
  });

  it('an outcome whose notification was lost (a crash) is settled by the sweep from the stored statuses', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    // The process "dies" between recording the statuses and settling the assignment.
    const lost = jest.spyOn(reconcile, 'onOutcomes').mockResolvedValue(undefined);
    const sim = simulate(t, d);
    try {
      await sim.runSession();
    } finally {
      lost.mockRestore();
      sim.close();
    }
    expect((await assignment(p.id, d)).state).toBe('delivering');
    // Before the sweep is due nothing moves; once due, the stored statuses decide.
    await reconcile.runOnce();
    expect((await assignment(p.id, d)).state).toBe('delivering');
    await reconcile.runOnce(new Date(Date.now() + 3_600_000 + 60_000));
    expect((await assignment(p.id, d)).state).toBe('verified');
  });

  it('fails the profile naming the refused setting and its code; the other setting is verified', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    const behaviour: DeviceBehaviour = { failPaths: { [HOME]: '500' } };
    const sim = simulate(t, d, { behaviour });
    await sim.runSession();
    sim.close();
    const a = await assignment(p.id, d);
    expect(a.state).toBe('failed');
    expect(a.settings).toEqual([
      { path: CAMERA, state: 'verified', statusCode: '200', verified: 'yes' },
      { path: HOME, state: 'failed', statusCode: '500' },
    ]);
    const failed = await t.http
      .get(`${profilesUrl(d)}/${p.id}/status?state=failed`)
      .set(bearer(d.token));
    expect(failed.status).toBe(200);
    expect(failed.body.data.devices.totalDocs).toBe(1);
    expect(failed.body.data.devices.docs).toEqual([
      expect.objectContaining({
        winDeviceId: d.winDeviceId,
        state: 'failed',
        failure: { path: HOME, statusCode: 500 },
      }),
    ]);
    const verifiedOnly = await t.http
      .get(`${profilesUrl(d)}/${p.id}/status?state=verified`)
      .set(bearer(d.token));
    expect(verifiedOnly.body.data.devices.totalDocs).toBe(0);
  });

  it('reports a setting Windows does not read back as unreadable without failing the profile', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    const sim = simulate(t, d, { behaviour: { unreadablePaths: [CAMERA] } });
    await sim.runSession();
    sim.close();
    const a = await assignment(p.id, d);
    expect(a.state).toBe('verified');
    expect(a.settings[0]).toEqual({
      path: CAMERA,
      state: 'verified',
      statusCode: '404',
      verified: 'unreadable',
    });
  });

  it('re-reads verified settings when due, on the device’s next session, and reports drift', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    const sim = simulate(t, d);
    await sim.runSession();
    expect((await assignment(p.id, d)).state).toBe('verified');

    // Not due yet: nothing is queued.
    const { planBucket } = await assignment(p.id, d);
    expect(planBucket).toEqual(expect.any(Number));
    reconcile.seekChecks(planBucket!);
    await reconcile.runOnce();
    expect(await profileCommands(p.id)).toHaveLength(4);
    // Due, but a pass reads the next 16 planning buckets only (decisions.md §53): the pass
    // before its bucket's turn queues nothing.
    const due = new Date(Date.now() + DAY + 60_000);
    reconcile.seekChecks(planBucket! + 16);
    await reconcile.runOnce(due);
    expect(await profileCommands(p.id)).toHaveLength(4);
    // Its bucket's pass: one check (Gets only), and only one however often the job runs before
    // the session (other tests' assignments in this database are due too: only this profile's
    // are counted).
    reconcile.seekChecks(planBucket!);
    await reconcile.runOnce(due);
    reconcile.seekChecks(planBucket!);
    await reconcile.runOnce(due);
    const check = (await profileCommands(p.id)).slice(4);
    expect(check.map((c) => `${c.config.action} ${c.config.path}`)).toEqual([
      `Get ${CAMERA}`,
      `Get ${HOME}`,
    ]);
    expect(check.every((c) => c.status === 'Pending')).toBe(true);

    // Unchanged values: still verified, next check scheduled again.
    await sim.runSession();
    const still = await assignment(p.id, d);
    expect(still.state).toBe('verified');
    expect(still.nextVerifyAt).not.toBeNull();

    // Changed behind the server's back: drifted, naming the setting and the device's value.
    sim.drift(CAMERA, '1');
    reconcile.seekChecks(planBucket!);
    await reconcile.runOnce(new Date(still.nextVerifyAt!.getTime() + 1));
    expect(await profileCommands(p.id)).toHaveLength(8);
    await sim.runSession();
    sim.close();
    const drifted = await assignment(p.id, d);
    expect(drifted.state).toBe('drifted');
    expect(drifted.settings[0]).toEqual({
      path: CAMERA,
      state: 'drifted',
      statusCode: '200',
      deviceValue: '1',
    });
    const status = await t.http
      .get(`${profilesUrl(d)}/${p.id}/status?state=drifted`)
      .set(bearer(d.token));
    expect(status.body.data.devices.docs[0].failure).toEqual({
      path: CAMERA,
      statusCode: 200,
      deviceValue: '1',
    });
  });

  /** Another process's reconciliation over the same store (its own cursor and memory). */
  const reconcileProcess = (over: Partial<AppConfig['profileReconcile']> = {}) => {
    const config = t.app.get<AppConfig>(APP_CONFIG);
    return new ReconcileService(
      { ...config, profileReconcile: { ...config.profileReconcile, ...over } },
      t.app.get(ReconcileRepository),
      t.app.get(ProfilesRepository),
      t.app.get(CommandsService),
      t.app.get(CommandOutcomeHooks),
    );
  };

  /** The finds on win_profile_assignments the server issues while `run` runs. */
  async function assignmentFinds(
    run: () => Promise<unknown>,
  ): Promise<{ filter: Record<string, unknown>; sort?: unknown }[]> {
    const finds: { filter: Record<string, unknown>; sort?: unknown }[] = [];
    const watch = (e: CommandStartedEvent) => {
      const cmd = e.command as Record<string, unknown>;
      if (e.commandName === 'find' && cmd.find === 'win_profile_assignments') {
        finds.push({ filter: cmd.filter as Record<string, unknown>, sort: cmd.sort });
      }
    };
    const client = t.db.getClient();
    client.on('commandStarted', watch);
    try {
      await run();
    } finally {
      client.off('commandStarted', watch);
    }
    return finds;
  }

  it('looks for run-out claims once a sixtieth of their lease, not every pass', async () => {
    const fresh = reconcileProcess();
    const { sweepMs } = t.app.get<AppConfig>(APP_CONFIG).profileReconcile;
    const claimSweeps = async (now: Date) =>
      (await assignmentFinds(() => fresh.runOnce(now))).filter(
        (f) => f.filter.state === 'delivering',
      ).length;
    const now = new Date(Date.now() + 3 * DAY);
    expect(await claimSweeps(now)).toBe(1);
    expect(await claimSweeps(new Date(now.getTime() + sweepMs / 60 - 1))).toBe(0);
    expect(await claimSweeps(new Date(now.getTime() + sweepMs / 60))).toBe(1);
  });

  /** A profile verified on two devices, their assignments due for a check at the returned time. */
  async function verifiedOnTwo(): Promise<{ p: { id: string }; docs: StoredAssignment[] }> {
    const d1 = await managedDevice(t);
    const d2 = await managedDevice(t, d1);
    const p = await createProfile(t, d1, {
      ...twoSettings,
      targets: { deviceIds: [d1.winDeviceId, d2.winDeviceId] },
    });
    await planner.runUntilIdle();
    await reconcile.runOnce();
    for (const d of [d1, d2]) {
      const sim = simulate(t, d);
      await sim.runSession();
      sim.close();
    }
    const docs = [await assignment(p.id, d1), await assignment(p.id, d2)];
    expect(docs.map((a) => a.state)).toEqual(['verified', 'verified']);
    return { p, docs };
  }

  it('a pass that fills its limit inside a bucket starts the next pass there again', async () => {
    const { p, docs } = await verifiedOnTwo();
    // Both in one bucket no other assignment uses (written around the schema: a device's bucket
    // derives from its id).
    const assignments = t.db.collection<StoredAssignment>('win_profile_assignments');
    const used = new Set((await assignments.find().toArray()).map((a) => a.planBucket));
    const bucket = Array.from({ length: PLAN_BUCKETS }, (_, i) => i).find((b) => !used.has(b))!;
    await assignments.updateMany(
      { _id: { $in: docs.map((a) => a._id) } },
      { $set: { planBucket: bucket } },
    );
    const one = reconcileProcess({ batchSize: 1 });
    const due = new Date(Math.max(...docs.map((a) => a.nextVerifyAt!.getTime())) + 1);
    const checks = async () =>
      (await profileCommands(p.id)).filter((c) => c.config.action === 'Get').length;
    const before = await checks();
    one.seekChecks(bucket);
    expect(await one.runOnce(due)).toMatchObject({ checks: 1 });
    expect(await one.runOnce(due)).toMatchObject({ checks: 1 });
    expect((await checks()) - before).toBe(4);
  });

  it('a pass reads assignments by pushed-down equalities: one state at a time, drift checks one planning bucket at a time', async () => {
    // Work of several kinds in the store: verified assignments (earlier tests), one delivering.
    const d = await managedDevice(t);
    await apply(d, twoSettings);
    const start = PLAN_BUCKETS - 96;
    reconcile.seekChecks(start);
    const finds = await assignmentFinds(() => reconcile.runOnce(new Date(Date.now() + 2 * DAY)));
    expect(finds.length).toBeGreaterThan(0);
    // FerretDB 1.24 pushes down top-level scalar equalities only (decisions.md §43, §53): every
    // read names one state, and none sorts (a sort decodes all the filter selected).
    for (const f of finds) {
      expect(typeof f.filter.state).toBe('string');
      expect(f.sort).toBeUndefined();
    }
    // Drift checks: the 16 buckets after the cursor, one equality each, and nothing else.
    const checks = finds.filter((f) => 'nextVerifyAt' in f.filter);
    expect(checks.map((f) => f.filter.planBucket)).toEqual(
      Array.from({ length: 16 }, (_, i) => start + i),
    );
    expect(checks.every((f) => f.filter.state === 'verified')).toBe(true);
    // Verified assignments are read by the sweep only with an open check (step: 'check').
    const sweeps = finds.filter(
      (f) => !('nextVerifyAt' in f.filter) && f.filter.state === 'verified',
    );
    expect(sweeps.map((f) => f.filter.step)).toEqual(['check']);
  });

  it('an assignment stored without a planning bucket gets its drift check from the pass that ends a walk', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    const sim = simulate(t, d);
    await sim.runSession();
    sim.close();
    const a = await assignment(p.id, d);
    expect(a.state).toBe('verified');
    // Written before planning buckets existed (decisions.md §47; §51's backfill not run yet).
    await t.db
      .collection('win_profile_assignments')
      .updateOne({ _id: a._id }, { $unset: { planBucket: '', planGroup: '' } });
    // A process of its own: this one may already have seen no such assignment left.
    const fresh = reconcileProcess();
    const due = new Date(a.nextVerifyAt!.getTime() + 1);
    fresh.seekChecks(0);
    await fresh.runOnce(due);
    expect(await profileCommands(p.id)).toHaveLength(4);
    fresh.seekChecks(PLAN_BUCKETS - 16);
    await fresh.runOnce(due);
    expect((await profileCommands(p.id)).slice(4).map((c) => c.config.action)).toEqual([
      'Get',
      'Get',
    ]);
  });

  it('a new revision cancels the older one’s unsent commands and is verified in its place', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, twoSettings);
    const patched = await t.http
      .patch(`${profilesUrl(d)}/${p.id}`)
      .set(bearer(d.token))
      .send({ settings: [{ path: CAMERA, format: 'int', value: '1', verify: true }] });
    expect(patched.status).toBe(200);
    await planner.runUntilIdle();
    await reconcile.runOnce();
    const commands = await profileCommands(p.id);
    expect(commands.filter((c) => c.origin?.revision === 1).map((c) => c.status)).toEqual([
      'Cancel',
      'Cancel',
      'Cancel',
      'Cancel',
    ]);
    expect(commands.filter((c) => c.origin?.revision === 2).map((c) => c.status)).toEqual([
      'Pending',
      'Pending',
    ]);

    const sim = simulate(t, d);
    await sim.runSession();
    sim.close();
    expect(sim.valueOf(CAMERA)).toBe('1');
    expect(sim.valueOf(HOME)).toBeUndefined();
    const a = await assignment(p.id, d);
    expect(a).toMatchObject({ state: 'verified', revision: 2 });
    expect(a.settings).toEqual([
      { path: CAMERA, state: 'verified', statusCode: '200', verified: 'yes' },
    ]);
  });

  it('removes with delete: Delete per setting, then removed', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, { ...twoSettings, onRemove: 'delete' });
    const sim = simulate(t, d);
    await sim.runSession();
    expect(sim.valueOf(CAMERA)).toBe('0');

    const del = await t.http.delete(`${profilesUrl(d)}/${p.id}`).set(bearer(d.token));
    expect(del.status).toBe(200);
    await planner.runUntilIdle();
    expect((await assignment(p.id, d)).state).toBe('removing');
    expect((await reconcile.runOnce()).removing).toBe(1);
    const deletes = (await profileCommands(p.id)).slice(4);
    expect(deletes.map((c) => `${c.config.action} ${c.config.path}`)).toEqual([
      `Delete ${CAMERA}`,
      `Delete ${HOME}`,
    ]);
    await sim.runSession();
    sim.close();
    expect(sim.valueOf(CAMERA)).toBeUndefined();
    const a = await assignment(p.id, d);
    expect(a.state).toBe('removed');
    expect(a.settings.map((s) => s.state)).toEqual(['removed', 'removed']);
  });

  it.each(['keep', 'delete'])(
    'a profile that stops applying (onRemove %s) cancels its unsent commands at once',
    async (onRemove) => {
      const d = await managedDevice(t);
      const p = await apply(d, { ...twoSettings, onRemove });
      // Queued for the device, not sent yet.
      expect((await profileCommands(p.id)).map((c) => c.status)).toEqual([
        'Pending',
        'Pending',
        'Pending',
        'Pending',
      ]);
      const untargeted = await t.http
        .patch(`${profilesUrl(d)}/${p.id}`)
        .set(bearer(d.token))
        .send({ targets: { labels: ['nobody'] } });
      expect(untargeted.status).toBe(200);
      await planner.runUntilIdle();
      expect((await assignment(p.id, d)).state).toBe(onRemove === 'keep' ? 'removed' : 'removing');
      expect((await profileCommands(p.id)).map((c) => c.status)).toEqual([
        'Cancel',
        'Cancel',
        'Cancel',
        'Cancel',
      ]);

      await reconcile.runOnce();
      const sim = simulate(t, d);
      await sim.runSession();
      sim.close();
      // Nothing of the profile reached the device; delete sends its Deletes, keep nothing.
      expect(sim.valueOf(CAMERA)).toBeUndefined();
      expect(sim.valueOf(HOME)).toBeUndefined();
      const after = (await profileCommands(p.id)).slice(4);
      expect(after.map((c) => c.config.action)).toEqual(
        onRemove === 'keep' ? [] : ['Delete', 'Delete'],
      );
      expect(after.every((c) => c.status !== 'Pending')).toBe(true);
      expect((await assignment(p.id, d)).state).toBe('removed');
    },
  );

  it('an atomic profile goes inside one Atomic; its read-backs follow once it is acknowledged', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, { ...twoSettings, atomic: true });
    const batches = await t.db
      .collection<{ atomic?: boolean; origin?: { id: string } }>('win_command_batches')
      .find({ 'origin.id': p.id })
      .toArray();
    expect(batches.map((b) => b.atomic)).toEqual([true]);
    expect((await profileCommands(p.id)).map((c) => c.config.action)).toEqual([
      'Replace',
      'Replace',
    ]);

    const sim = simulate(t, d);
    const run = await sim.runSession();
    expect(run.transcript.filter((e) => e.verb === 'Atomic')).toHaveLength(1);
    // The Atomic's acknowledgement queued the Gets (woken by push where configured): they ride
    // the next session.
    expect((await profileCommands(p.id)).map((c) => `${c.config.action} ${c.status}`)).toEqual([
      'Replace Acknowledged',
      'Replace Acknowledged',
      'Get Pending',
      'Get Pending',
    ]);
    expect((await assignment(p.id, d)).state).toBe('verifying');
    await sim.runSession();
    sim.close();
    expect((await profileCommands(p.id)).slice(2).map((c) => c.status)).toEqual([
      'Acknowledged',
      'Acknowledged',
    ]);
    const a = await assignment(p.id, d);
    expect(a.state).toBe('verified');
    expect(a.settings.map((s) => s.verified)).toEqual(['yes', 'yes']);
  });

  it('user scope waits for a logged-on user (LoginStatus), then verifies', async () => {
    const d = await managedDevice(t);
    const p = await apply(d, {
      scope: 'user',
      settings: [{ path: USER_POLICY, format: 'chr', value: 'Printer1', verify: true }],
    });
    const sim = simulate(t, d);
    await sim.runSession({ loginStatus: 'none' });
    expect(sim.valueOf(USER_POLICY)).toBeUndefined();
    expect((await assignment(p.id, d)).state).toBe('delivering');
    expect((await profileCommands(p.id)).map((c) => c.status)).toEqual(['Pending', 'Pending']);

    await sim.runSession({ loginStatus: 'user' });
    sim.close();
    expect(sim.valueOf(USER_POLICY)).toBe('Printer1');
    expect((await assignment(p.id, d)).state).toBe('verified');
  });
});
