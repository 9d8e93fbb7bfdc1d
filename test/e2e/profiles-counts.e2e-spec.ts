import { Types } from 'mongoose';
import { TargetCountsRepository } from '../../src/devices/target-counts.repository';
import { TargetCountsService } from '../../src/devices/target-counts.service';
import type { ProfileTargets } from '../../src/profiles/profiles.types';
import { reaches } from '../../src/profiles/targeting';
import { bearer, startTestApp, TestApp } from '../support/app';
import { labelUrl, profileBody, profilesUrl } from '../support/profiles';
import { Seeded, seedDevice, uniqueDeviceId } from '../support/seed';

const DAY_MS = 24 * 60 * 60 * 1000;

interface StoredCount {
  _id: string;
  label: string | null;
  devices: number;
  seq: number;
  countedAt?: Date;
}

/**
 * Issue 11 "Scale": a profile write answers devicesToPlan from the maintained device and label
 * counts (decisions.md §49), exact or an upper bound it says is one; the recount repairs drift
 * and counts enterprises from before the counts.
 */
describe('profiles: devicesToPlan from the maintained target counts', () => {
  let t: TestApp;
  let recounter: TargetCountsService;
  beforeAll(async () => {
    t = await startTestApp(__filename, { PROFILE_PLANNER: 'false' });
    recounter = t.app.get(TargetCountsService);
  });
  afterAll(() => t.close());

  const api = (s: Seeded) => `/v1/organizations/${s.slug}/mdm/windows/enterprise`;
  const createDevice = async (s: Seeded) => {
    const r = await t.http
      .post(`${api(s)}/devices`)
      .set(bearer(s.token))
      .send({ deviceId: uniqueDeviceId() });
    expect(r.status).toBe(200);
    return r.body.data.id as string;
  };
  const patchLabels = async (s: Seeded, id: string, labels: string[]) => {
    const r = await t.http
      .patch(`${api(s)}/devices/${id}`)
      .set(bearer(s.token))
      .send({ labels });
    expect(r.status).toBe(200);
  };
  const bulk = async (s: Seeded, label: string, body: { add?: string[]; remove?: string[] }) => {
    const r = await t.http.post(labelUrl(s, label)).set(bearer(s.token)).send(body);
    expect(r.status).toBe(200);
    return r.body.data as { added: number; removed: number };
  };
  const post = async (s: Seeded, targets: ProfileTargets) => {
    const r = await t.http.post(profilesUrl(s)).set(bearer(s.token)).send(profileBody({ targets }));
    expect(r.status).toBe(200);
    return r.body.data as { id: string; devicesToPlan: number; devicesToPlanExact: boolean };
  };
  const devicesOf = async (s: Seeded) =>
    (
      await t.db
        .collection('win_devices')
        .find({ winEnterpriseId: new Types.ObjectId(s.enterpriseId) })
        .toArray()
    ).map((d) => ({ id: String(d._id), labels: (d.labels as string[] | undefined) ?? [] }));
  const truth = async (s: Seeded, targets: ProfileTargets) =>
    (await devicesOf(s)).filter((d) => reaches(targets, d)).length;
  const countsOf = (s: Seeded) =>
    t.db
      .collection<StoredCount>('win_target_counts')
      .find({ winEnterpriseId: new Types.ObjectId(s.enterpriseId) })
      .toArray();
  /** The stored counters as {label → devices} (`*`: all devices), zeros left out. */
  const storedCounts = async (s: Seeded) =>
    Object.fromEntries(
      (await countsOf(s)).filter((c) => c.devices !== 0).map((c) => [c.label ?? '*', c.devices]),
    );
  /** The same, counted from the devices. */
  const trueCounts = async (s: Seeded) => {
    const out: Record<string, number> = {};
    for (const d of await devicesOf(s)) {
      out['*'] = (out['*'] ?? 0) + 1;
      for (const l of d.labels) out[l] = (out[l] ?? 0) + 1;
    }
    return out;
  };

  /**
   * Seed device + 6 created through the API, labelled by PATCH and in bulk, ending as
   * d1 [a b c], d2 [a], d3 [x], d4 [c], d5 [c], d6 [c]: all 7, a 2, b 1, c 4, x 1.
   */
  async function labelledFleet(): Promise<{ s: Seeded; d: string[] }> {
    const s = await seedDevice(t);
    const d: string[] = [];
    for (let i = 0; i < 6; i++) d.push(await createDevice(s));
    await patchLabels(s, d[0], ['a', 'b']);
    await patchLabels(s, d[1], ['a']);
    await patchLabels(s, d[2], ['b', 'x']);
    await patchLabels(s, d[3], ['x']);
    // Added to three, one already has it: the count moves by what the write changed.
    expect(await bulk(s, 'c', { add: [d[0], d[4], d[5]] })).toMatchObject({ added: 3 });
    expect(await bulk(s, 'c', { add: [d[0]] })).toMatchObject({ added: 0 });
    expect(await bulk(s, 'b', { remove: [d[2], d[3]] })).toMatchObject({ removed: 1 });
    await patchLabels(s, d[3], ['x', 'c']);
    await patchLabels(s, d[3], ['c']);
    return { s, d };
  }

  it('keeps the counts as devices are created and labelled, and answers from them', async () => {
    const { s } = await labelledFleet();
    expect(await storedCounts(s)).toEqual({ '*': 7, a: 2, b: 1, c: 4, x: 1 });
    expect(await storedCounts(s)).toEqual(await trueCounts(s));

    // [targets, devicesToPlan, exact]: exact answers are the truth; bounds are never below it.
    const cases: [ProfileTargets, number, boolean][] = [
      [{ all: true }, 7, true],
      [{ labels: ['a'] }, 2, true],
      [{ labels: ['nobody'] }, 0, true],
      [{ labels: ['a', 'nobody'] }, 2, true],
      [{ labels: ['a', 'c'] }, 6, false], // reaches 5: d1 is counted twice
      [{ labels: ['a', 'b'] }, 3, false], // reaches 2
      [{ excludeLabels: ['c'] }, 3, true],
      [{ excludeLabels: ['c', 'x'] }, 3, false], // reaches 2
      [{ labels: ['c'], excludeLabels: ['a'] }, 4, false], // reaches 3
    ];
    for (const [targets, devices, exact] of cases) {
      const p = await post(s, targets);
      const reached = await truth(s, targets);
      expect({ targets, devicesToPlan: p.devicesToPlan, exact: p.devicesToPlanExact }).toEqual({
        targets,
        devicesToPlan: devices,
        exact,
      });
      if (exact) expect(p.devicesToPlan).toBe(reached);
      else expect(p.devicesToPlan).toBeGreaterThan(reached);
    }

    // A device list is exact; a PATCH of the targets and a deletion count the same way.
    const [one, two] = (await devicesOf(s)).map((x) => x.id);
    expect(await post(s, { deviceIds: [one, two] })).toMatchObject({
      devicesToPlan: 2,
      devicesToPlanExact: true,
    });
    const p = await post(s, { labels: ['x'] });
    const retargeted = await t.http
      .patch(`${profilesUrl(s)}/${p.id}`)
      .set(bearer(s.token))
      .send({ targets: { labels: ['c'] } });
    expect(retargeted.body.data).toMatchObject({ devicesToPlan: 4, devicesToPlanExact: true });
    const del = await t.http.delete(`${profilesUrl(s)}/${p.id}`).set(bearer(s.token));
    expect(del.body.data).toEqual({ deleted: true, devicesToPlan: 4, devicesToPlanExact: false });
  });

  it('a PATCH replacing 50 labels with 50 others moves 100 counters (in chunks: §51)', async () => {
    const s = await seedDevice(t);
    const id = await createDevice(s);
    const first = Array.from({ length: 50 }, (_, i) => `first-${i}`);
    const second = Array.from({ length: 50 }, (_, i) => `second-${i}`);
    await patchLabels(s, id, first);
    await patchLabels(s, id, second);
    const stored = await storedCounts(s);
    expect(stored).toEqual(await trueCounts(s));
    expect(Object.keys(stored)).toHaveLength(1 + 50);
    expect(stored['second-49']).toBe(1);
    expect(stored['first-0']).toBeUndefined();
  });

  it('a recount repairs a counter that drifted', async () => {
    const { s } = await labelledFleet();
    const counts = t.db.collection<StoredCount>('win_target_counts');
    // A crash between a device write and its $inc: the counter is wrong and its seq unchanged.
    await counts.updateOne({ _id: `${s.enterpriseId}:c` }, { $set: { devices: 40 } });
    await counts.updateOne({ _id: s.enterpriseId }, { $set: { devices: 50 } });
    expect(await post(s, { labels: ['c'] })).toMatchObject({ devicesToPlan: 40 });

    // Not due yet: the pass leaves the enterprise alone.
    expect(await recounter.runOnce()).toMatchObject({ ran: true, recounted: 0 });
    expect(await storedCounts(s)).toMatchObject({ '*': 50, c: 40 });
    const run = await recounter.runOnce(new Date(Date.now() + 2 * DAY_MS));
    expect(run).toMatchObject({ ran: true, raced: 0 });
    expect(run.recounted).toBeGreaterThanOrEqual(1);
    expect(await storedCounts(s)).toEqual(await trueCounts(s));
    expect(await post(s, { labels: ['c'] })).toMatchObject({
      devicesToPlan: 4,
      devicesToPlanExact: true,
    });
    expect(await post(s, { all: true })).toMatchObject({ devicesToPlan: 7 });
  });

  it('a recount leaves a counter a change moved meanwhile to that change', async () => {
    const { s, d } = await labelledFleet();
    const repo = t.app.get(TargetCountsRepository, { strict: false });
    const tally = repo.tally.bind(repo);
    // Between the recount's reading of the seqs and its writes, a PATCH adds `c` to d2: the
    // tally may not have seen it, so the recount must not overwrite the counter it moved.
    const spy = jest.spyOn(repo, 'tally').mockImplementationOnce(async (id: string) => {
      const counted = await tally(id);
      await patchLabels(s, d[1], ['a', 'c']);
      return counted;
    });
    try {
      expect(await recounter.recount(s.enterpriseId)).toBe(false);
    } finally {
      spy.mockRestore();
    }
    expect(await storedCounts(s)).toEqual(await trueCounts(s));
    expect((await storedCounts(s)).c).toBe(5);
    // The enterprise is still due: the next pass counts it whole.
    expect(await recounter.recount(s.enterpriseId)).toBe(true);
    expect(await storedCounts(s)).toEqual(await trueCounts(s));
  });

  it('an enterprise from before the counts is answered from its devices until it is recounted', async () => {
    const { s } = await labelledFleet();
    await t.db
      .collection('win_target_counts')
      .deleteMany({ winEnterpriseId: new Types.ObjectId(s.enterpriseId) });
    // A device created meanwhile starts a counter without making the enterprise counted.
    await createDevice(s);
    expect(await storedCounts(s)).toEqual({ '*': 1 });

    // Counted from the devices: exact even for a union (a or c: 5 devices). This starts a
    // recount, so the next answer may come from either path: both are exact for all devices.
    expect(await post(s, { labels: ['a', 'c'] })).toMatchObject({
      devicesToPlan: 5,
      devicesToPlanExact: true,
    });
    expect(await post(s, { all: true })).toMatchObject({
      devicesToPlan: 8,
      devicesToPlanExact: true,
    });

    // The fallback started a pass; this one runs after it and finds the enterprise counted.
    await recounter.runOnce();
    const all = (await countsOf(s)).find((c) => c._id === s.enterpriseId);
    expect(all?.countedAt).toBeInstanceOf(Date);
    expect(await storedCounts(s)).toEqual(await trueCounts(s));
    expect(await post(s, { labels: ['a', 'c'] })).toMatchObject({
      devicesToPlan: 6,
      devicesToPlanExact: false,
    });
  });
});
