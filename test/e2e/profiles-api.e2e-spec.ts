import { Types } from 'mongoose';
import { ProfilePlanner } from '../../src/profiles/profile-planner';
import { bearer, startTestApp, TestApp } from '../support/app';
import {
  CAMERA,
  createProfile,
  insertDevices,
  labelUrl,
  profileBody,
  profilesUrl,
  statesOf,
} from '../support/profiles';
import { seedDevice, Seeded } from '../support/seed';
import { expectConflict, expectDenied, expectInvalid } from './expect-error';

/** The planner is driven by the test (PROFILE_PLANNER=false): no waiting, no timing. */
describe('profiles: CRUD, validation, labels, planning, conflicts', () => {
  let t: TestApp;
  let planner: ProfilePlanner;
  beforeAll(async () => {
    t = await startTestApp(__filename, {
      PROFILE_PLANNER: 'false',
      PROFILE_VALUE_MAX_BYTES: '2048',
      PROFILE_PLAN_BATCH_SIZE: '2',
    });
    planner = t.app.get(ProfilePlanner);
  });
  afterAll(() => t.close());

  const count = (c: string) => t.db.collection(c).countDocuments();
  const devicePatch = (s: Seeded, id: string) =>
    t.http
      .patch(`/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${id}`)
      .set(bearer(s.token));

  it('creates, lists (paginated), reads, revises and deletes a profile', async () => {
    const s = await seedDevice(t);
    const created = await t.http
      .post(profilesUrl(s))
      .set(bearer(s.token))
      .send(profileBody({ name: 'Camera off', description: 'no camera' }));
    expect(created.status).toBe(200);
    expect(created.body.data).toMatchObject({
      name: 'Camera off',
      description: 'no camera',
      scope: 'device',
      settings: [{ path: CAMERA, format: 'int', value: '0', action: 'Replace', verify: true }],
      atomic: false,
      onRemove: 'delete',
      targets: { all: true },
      revision: 1,
      devicesToPlan: 1,
      devicesToPlanExact: true,
    });
    const id = created.body.data.id as string;
    // Other paths: the revision below would otherwise conflict with them (all target every device).
    for (const name of ['B', 'C'])
      await createProfile(t, s, {
        name,
        settings: [
          { path: `./Device/Vendor/MSFT/Policy/Config/${name}/X`, format: 'int', value: '1' },
        ],
      });

    const page = await t.http.get(`${profilesUrl(s)}?limit=2&sort=name:asc`).set(bearer(s.token));
    expect(page.status).toBe(200);
    expect(page.body.data).toMatchObject({ totalDocs: 3, totalPages: 2, hasNextPage: true });
    expect(page.body.data.docs.map((p: { name: string }) => p.name)).toEqual(['B', 'C']);

    const dup = await t.http
      .post(profilesUrl(s))
      .set(bearer(s.token))
      .send(profileBody({ name: 'B' }));
    expectConflict(dup, /name already exists/);

    const patched = await t.http
      .patch(`${profilesUrl(s)}/${id}`)
      .set(bearer(s.token))
      .send({ settings: [{ path: CAMERA, format: 'int', value: '1' }] });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ revision: 2, settings: [{ value: '1' }] });
    const read = await t.http.get(`${profilesUrl(s)}/${id}`).set(bearer(s.token));
    expect(read.body.data.revision).toBe(2);

    const del = await t.http.delete(`${profilesUrl(s)}/${id}`).set(bearer(s.token));
    expect(del.status).toBe(200);
    // Not planned yet, so nothing applied: a deletion answers the devices its targets reach, an
    // estimate of those it is retired from (decisions.md §49).
    expect(del.body.data).toEqual({ deleted: true, devicesToPlan: 1, devicesToPlanExact: false });
    const gone = await t.http.get(`${profilesUrl(s)}/${id}`).set(bearer(s.token));
    expect(gone.status).toBe(404);
    expect(gone.body.error).toEqual({ code: 3001, message: 'Profile not found' });
    // The name is free again at once.
    expect((await createProfile(t, s, { name: 'Camera off' })).revision).toBe(1);
  });

  it('requires the mdm.windows.profile.* permissions', async () => {
    const s = await seedDevice(t);
    const tk = t.token({ permissions: ['mdm.windows.profile.list'] });
    expectDenied(
      await t.http.post(profilesUrl(s)).set(bearer(tk)).send(profileBody()),
      'mdm.windows.profile.create',
    );
    expect((await t.http.get(profilesUrl(s)).set(bearer(tk))).status).toBe(200);
  });

  it('refuses bad input with 400 5091 naming the field, and changes nothing', async () => {
    const s = await seedDevice(t);
    const before = await count('win_profiles');
    const plansBefore = await count('win_profile_plans');
    const bad: [Record<string, unknown>, string][] = [
      [profileBody({ color: 'red' }), 'color'],
      [
        profileBody({ settings: [{ path: CAMERA, format: 'int', value: '0', extra: 1 }] }),
        'settings.0.extra',
      ],
      [
        profileBody({ settings: [{ path: 'Device/Camera', format: 'int', value: '0' }] }),
        'settings.0.path',
      ],
      [profileBody({ scope: 'user' }), 'settings.0.path'],
      [
        profileBody({ settings: [{ path: './User/Vendor/MSFT/X', format: 'int', value: '0' }] }),
        'settings.0.path',
      ],
      [
        profileBody({ settings: [{ path: CAMERA, format: 'int', value: 'zero' }] }),
        'settings.0.value',
      ],
      [
        profileBody({ settings: [{ path: CAMERA, format: 'xml', value: '<a>' }] }),
        'settings.0.value',
      ],
      [
        profileBody({ settings: [{ path: CAMERA, format: 'chr', value: 'x'.repeat(2049) }] }),
        'settings.0.value',
      ],
      [
        profileBody({
          settings: [
            { path: CAMERA, format: 'int', value: '0' },
            { path: CAMERA, format: 'int', value: '1' },
          ],
        }),
        'settings.1.path',
      ],
      [
        profileBody({
          settings: Array.from({ length: 1000 }, (_, i) => ({
            path: `./Device/Vendor/MSFT/Policy/Config/X/S${i}`,
            format: 'int',
            value: '1',
          })),
        }),
        'settings',
      ],
      [profileBody({ name: '  ' }), 'name'],
      [profileBody({ targets: { labels: [''] } }), 'targets.labels'],
      [profileBody({ targets: { all: true, labels: ['a'] } }), 'targets'],
      [
        profileBody({ targets: { deviceIds: [new Types.ObjectId().toHexString()] } }),
        'targets.deviceIds.0',
      ],
      [profileBody({ onRemove: 'wipe' }), 'onRemove'],
    ];
    for (const [body, field] of bad) {
      const r = await t.http.post(profilesUrl(s)).set(bearer(s.token)).send(body);
      expectInvalid(r, field);
    }
    expect(await count('win_profiles')).toBe(before);
    expect(await count('win_profile_plans')).toBe(plansBefore);

    const emptyLabel = await devicePatch(s, s.winDeviceId).send({ labels: ['ok', ''] });
    expectInvalid(emptyLabel, 'labels');
    const bulkBad = await t.http
      .post(labelUrl(s, 'finance'))
      .set(bearer(s.token))
      .send({ add: ['nope'] });
    expectInvalid(bulkBad, 'add');
    const device = await t.db
      .collection('win_devices')
      .findOne({ _id: new Types.ObjectId(s.winDeviceId) });
    expect(device?.labels ?? []).toEqual([]);
  });

  it('plans targets into assignments and re-plans only the devices a label change affects', async () => {
    const s = await seedDevice(t);
    const fin = await insertDevices(t, s, 3, ['finance']);
    const [other] = await insertDevices(t, s, 1, ['hr']);
    const p = await createProfile(t, s, { targets: { labels: ['finance'] } });
    expect(p.devicesToPlan).toBe(3);
    await planner.runUntilIdle();
    expect(await statesOf(t, p.id)).toEqual(Object.fromEntries(fin.map((id) => [id, 'pending@1'])));
    expect(await count('win_profile_plans')).toBe(0);

    // Reconciliation moved one along: a change elsewhere must not touch it.
    const assignments = t.db.collection('win_profile_assignments');
    await assignments.updateOne(
      { winDeviceId: new Types.ObjectId(fin[0]) },
      { $set: { state: 'verified' } },
    );
    const bulk = await t.http
      .post(labelUrl(s, 'finance'))
      .set(bearer(s.token))
      .send({ add: [other, fin[1]], remove: [fin[2]] });
    expect(bulk.status).toBe(200);
    expect(bulk.body.data).toEqual({
      label: 'finance',
      added: 1,
      removed: 1,
      unchanged: 1,
      notFound: 0,
      plans: 1,
    });
    const plans = await t.db.collection('win_profile_plans').find().toArray();
    expect(plans.map((x) => x.deviceIds.map(String).sort())).toEqual([[other, fin[2]].sort()]);
    await planner.runUntilIdle();
    expect(await statesOf(t, p.id)).toEqual({
      [fin[0]]: 'verified@1',
      [fin[1]]: 'pending@1',
      [fin[2]]: 'removing@1',
      [other]: 'pending@1',
    });

    // A PATCH of one device's labels does the same for that device.
    const unlabel = await devicePatch(s, other).send({ labels: ['hr'] });
    expect(unlabel.status).toBe(200);
    expect(unlabel.body.data.labels).toEqual(['hr']);
    await planner.runUntilIdle();
    expect((await statesOf(t, p.id))[other]).toBe('removing@1');

    // A rename is a revision but no delivery: states stay; new settings are pending again.
    const renamed = await t.http
      .patch(`${profilesUrl(s)}/${p.id}`)
      .set(bearer(s.token))
      .send({ name: 'Renamed' });
    expect(renamed.body.data).toMatchObject({ revision: 2, devicesToPlan: 0 });
    const changed = await t.http
      .patch(`${profilesUrl(s)}/${p.id}`)
      .set(bearer(s.token))
      .send({ settings: [{ path: CAMERA, format: 'int', value: '1' }] });
    expect(changed.body.data).toMatchObject({ revision: 3, devicesToPlan: 2 });
    await planner.runUntilIdle();
    expect(await statesOf(t, p.id)).toEqual({
      [fin[0]]: 'pending@3',
      [fin[1]]: 'pending@3',
      [fin[2]]: 'removing@1',
      [other]: 'removing@1',
    });

    // Targets changed to nothing reachable: every applied device is retired; keep skips Delete.
    await t.http
      .patch(`${profilesUrl(s)}/${p.id}`)
      .set(bearer(s.token))
      .send({ targets: { labels: ['nobody'] }, onRemove: 'keep' });
    await planner.runUntilIdle();
    expect(Object.values(await statesOf(t, p.id)).sort()).toEqual([
      'removed@3',
      'removed@3',
      'removing@1',
      'removing@1',
    ]);
  });

  it('deletes: assignments are retired, and the profile goes once they are all removed', async () => {
    const s = await seedDevice(t);
    const keep = await createProfile(t, s, { onRemove: 'keep', targets: { all: true } });
    await planner.runUntilIdle();
    expect(Object.values(await statesOf(t, keep.id))).toEqual(['pending@1']);
    const del = await t.http.delete(`${profilesUrl(s)}/${keep.id}`).set(bearer(s.token));
    expect(del.body.data).toEqual({ deleted: true, devicesToPlan: 1, devicesToPlanExact: false });
    await planner.runUntilIdle();
    await planner.purgeDeleted();
    expect(
      await t.db.collection('win_profiles').countDocuments({ _id: new Types.ObjectId(keep.id) }),
    ).toBe(0);
    expect(await statesOf(t, keep.id)).toEqual({});

    const remove = await createProfile(t, s, { targets: { all: true } });
    await planner.runUntilIdle();
    await t.http.delete(`${profilesUrl(s)}/${remove.id}`).set(bearer(s.token));
    await planner.runUntilIdle();
    await planner.purgeDeleted();
    // onRemove delete: the device still has to delete the settings (reconciliation's part).
    expect(Object.values(await statesOf(t, remove.id))).toEqual(['removing@1']);
    const stored = await t.db
      .collection('win_profiles')
      .findOne({ _id: new Types.ObjectId(remove.id) });
    expect(stored?.deletedAt).toBeInstanceOf(Date);
  });

  it('refuses with 409 4091 an assignment that makes two profiles set one path differently on a device', async () => {
    const s = await seedDevice(t);
    const [kiosk] = await insertDevices(t, s, 1, ['kiosk']);
    const [fin] = await insertDevices(t, s, 1, ['finance']);
    const a = await createProfile(t, s, { name: 'Kiosk camera', targets: { labels: ['kiosk'] } });
    // Same path, other value, but no device has both labels: allowed.
    const b = await createProfile(t, s, {
      name: 'Finance camera',
      targets: { labels: ['finance'] },
      settings: [{ path: CAMERA, format: 'int', value: '1' }],
    });

    const everyone = await t.http
      .post(profilesUrl(s))
      .set(bearer(s.token))
      .send(
        profileBody({ name: 'All on', settings: [{ path: CAMERA, format: 'int', value: '1' }] }),
      );
    expect(everyone.status).toBe(409);
    expect(everyone.body.error.code).toBe(4091);
    expect(everyone.body.error.message).toContain('Kiosk camera');
    expect(everyone.body.error.message).toContain('All on');
    expect(everyone.body.error.message).toContain(CAMERA);

    const profilesBefore = await count('win_profiles');
    const labelled = await t.http
      .post(labelUrl(s, 'finance'))
      .set(bearer(s.token))
      .send({ add: [kiosk] });
    expect(labelled.status).toBe(409);
    expect(labelled.body.error.code).toBe(4091);
    expect(labelled.body.error.details).toEqual([
      { field: 'path', message: CAMERA },
      { field: 'profiles', message: expect.stringMatching(new RegExp(`${a.id}|${b.id}`)) },
    ]);
    const patched = await devicePatch(s, fin).send({ labels: ['finance', 'kiosk'] });
    expect(patched.status).toBe(409);
    expect(patched.body.error.code).toBe(4091);
    // Nothing changed: labels as they were, no plan stored, no profile created.
    const labels = await t.db
      .collection('win_devices')
      .find({ _id: { $in: [kiosk, fin].map((id) => new Types.ObjectId(id)) } })
      .toArray();
    expect(labels.map((d) => d.labels).sort()).toEqual([['finance'], ['kiosk']]);
    expect(await count('win_profiles')).toBe(profilesBefore);

    const retarget = await t.http
      .patch(`${profilesUrl(s)}/${b.id}`)
      .set(bearer(s.token))
      .send({ targets: { labels: ['finance', 'kiosk'] } });
    expect(retarget.status).toBe(409);
    expect(retarget.body.error.code).toBe(4091);
  });
});
