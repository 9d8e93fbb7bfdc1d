import { settingsProblems, targetsProblems, normalizeTargets } from './profile-rules';
import type { ProfileSetting, ProfileTargets } from './profiles.types';
import { conflictingPath, firstConflictOnDevices, reaches, targetLabelsOf } from './targeting';

const dev = (id: string, ...labels: string[]) => ({ id, labels });
const set = (
  path: string,
  value: string,
  format: ProfileSetting['format'] = 'int',
): ProfileSetting => ({
  path,
  format,
  value,
  action: 'Replace',
  verify: true,
});
const CAM = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const profile = (
  id: string,
  targets: ProfileTargets,
  settings: ProfileSetting[],
  scope: 'device' | 'user' = 'device',
) => ({
  id,
  name: id.toUpperCase(),
  scope,
  targets,
  settings,
});

describe('reaches', () => {
  it.each<[string, ProfileTargets, { id: string; labels: string[] }, boolean]>([
    ['all reaches an unlabelled device', { all: true }, dev('d1'), true],
    ['a label reaches a device carrying it', { labels: ['a', 'b'] }, dev('d1', 'b'), true],
    ['a label misses a device without it', { labels: ['a'] }, dev('d1', 'c'), false],
    [
      'an excluded label wins over an included one',
      { labels: ['a'], excludeLabels: ['x'] },
      dev('d1', 'a', 'x'),
      false,
    ],
    ['excludeLabels alone reaches every other device', { excludeLabels: ['x'] }, dev('d1'), true],
    ['excludeLabels alone misses the excluded', { excludeLabels: ['x'] }, dev('d1', 'x'), false],
    ['empty label targets reach nothing', { labels: [] }, dev('d1', 'a'), false],
    ['a device list reaches its members', { deviceIds: ['d1'] }, dev('d1'), true],
    ['a device list misses the others', { deviceIds: ['d1'] }, dev('d2', 'a'), false],
  ])('%s', (_name, targets, device, expected) => {
    expect(reaches(targets, device)).toBe(expected);
  });

  it('names every label of the targets once (what a label change looks up)', () => {
    expect(targetLabelsOf({ labels: ['a', 'b'], excludeLabels: ['b', 'c'] }).sort()).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(targetLabelsOf({ all: true })).toEqual([]);
  });
});

describe('conflicts', () => {
  it('finds a path set to different values, ignoring equal values and other paths', () => {
    expect(conflictingPath({ settings: [set(CAM, '0')] }, { settings: [set(CAM, '1')] })).toBe(CAM);
    expect(
      conflictingPath({ settings: [set(CAM, '0')] }, { settings: [set(CAM, '0')] }),
    ).toBeNull();
    expect(
      conflictingPath({ settings: [set(CAM, '0')] }, { settings: [set(`${CAM}2`, '1')] }),
    ).toBeNull();
    // Same text, other format: the device stores another thing.
    expect(
      conflictingPath({ settings: [set(CAM, '1', 'int')] }, { settings: [set(CAM, '1', 'chr')] }),
    ).toBe(CAM);
  });

  it('reports a conflict only on a device both profiles reach', () => {
    const a = profile('a', { labels: ['kiosk'] }, [set(CAM, '0')]);
    const b = profile('b', { labels: ['finance'] }, [set(CAM, '1')]);
    expect(firstConflictOnDevices([a, b], [dev('d1', 'kiosk'), dev('d2', 'finance')])).toBeNull();
    expect(
      firstConflictOnDevices([a, b], [dev('d1', 'kiosk'), dev('d2', 'finance', 'kiosk')]),
    ).toEqual({
      path: CAM,
      profiles: [
        { id: 'a', name: 'A' },
        { id: 'b', name: 'B' },
      ],
    });
  });

  it('ignores pairs of different scopes and pairs outside the change', () => {
    const a = profile('a', { all: true }, [set(CAM, '0')]);
    const b = profile('b', { all: true }, [set(CAM, '1')], 'user');
    expect(firstConflictOnDevices([a, b], [dev('d1')])).toBeNull();
    const c = profile('c', { all: true }, [set(CAM, '1')]);
    const d = profile('d', { labels: ['x'] }, [set('./Device/Vendor/MSFT/Other', '1')]);
    expect(firstConflictOnDevices([a, c, d], [dev('d1', 'x')], new Set(['d']))).toBeNull();
    expect(firstConflictOnDevices([a, c, d], [dev('d1', 'x')], new Set(['c']))).not.toBeNull();
  });
});

describe('setting rules', () => {
  const limits = { valueMaxBytes: 16, maxSettings: 3 };
  const fields = (scope: 'device' | 'user', settings: ProfileSetting[]) =>
    settingsProblems(scope, settings, limits).map((p) => p.field);

  it('accepts device settings under ./Device/ or ./Vendor/, user settings under ./User/', () => {
    expect(fields('device', [set(CAM, '0'), set('./Vendor/MSFT/Policy/Config/X/Y', '1')])).toEqual(
      [],
    );
    expect(fields('user', [set('./User/Vendor/MSFT/Policy/Config/X/Y', '1')])).toEqual([]);
  });

  it('refuses the other scope, bad URIs, values not fitting their format, oversize values and repeats', () => {
    expect(fields('device', [set('./User/Vendor/MSFT/X', '1')])).toEqual(['settings.0.path']);
    expect(fields('user', [set(CAM, '1')])).toEqual(['settings.0.path']);
    expect(fields('device', [set('./DevDetail/Ext/X', '1')])).toEqual(['settings.0.path']);
    expect(fields('device', [set('./Device//X', '1')])).toEqual(['settings.0.path']);
    expect(fields('device', [set(CAM, 'yes')])).toEqual(['settings.0.value']);
    expect(fields('device', [set(CAM, 'x'.repeat(17), 'chr')])).toEqual(['settings.0.value']);
    // The limit counts UTF-8 bytes: 6 three-byte characters are 18 bytes.
    expect(fields('device', [set(CAM, '€'.repeat(6), 'chr')])).toEqual(['settings.0.value']);
    expect(fields('device', [set(CAM, '0'), set(CAM, '0')])).toEqual(['settings.1.path']);
    expect(
      fields('device', [
        set(`${CAM}1`, '0'),
        set(`${CAM}2`, '0'),
        set(`${CAM}3`, '0'),
        set(`${CAM}4`, '0'),
      ]),
    ).toEqual(['settings']);
  });

  it('checks large XML values up to the profile limit, not the commands endpoint 64 KiB', () => {
    const big = `<a>${'x'.repeat(100 * 1024)}</a>`;
    const wide = { valueMaxBytes: 256 * 1024, maxSettings: 10 };
    expect(settingsProblems('device', [set(CAM, big, 'xml')], wide)).toEqual([]);
  });
});

describe('targets shape', () => {
  it('takes exactly one form', () => {
    expect(targetsProblems({ all: true })).toEqual([]);
    expect(targetsProblems({ labels: ['a'], excludeLabels: ['b'] })).toEqual([]);
    expect(targetsProblems({}).map((p) => p.field)).toEqual(['targets']);
    expect(targetsProblems({ all: true, deviceIds: [] }).map((p) => p.field)).toEqual(['targets']);
    expect(targetsProblems({ all: false }).map((p) => p.field)).toEqual(['targets.all']);
  });

  it('stores only the chosen form, de-duplicated', () => {
    expect(normalizeTargets({ labels: ['a', 'a'] })).toEqual({ labels: ['a'] });
    expect(normalizeTargets({ deviceIds: ['AB', 'ab'] })).toEqual({ deviceIds: ['ab'] });
  });
});
