import { LabelTally } from '../devices/target-counts';
import type { ProfileTargets } from './profiles.types';
import { devicesToPlan, TargetCounts } from './target-bound';
import { reaches } from './targeting';

const counts = (all: number, labels: Record<string, number>): TargetCounts => ({
  all,
  labels: new Map(Object.entries(labels)),
});

describe('devicesToPlan', () => {
  const c = counts(100, { a: 30, b: 50, x: 20, y: 70, none: 0 });

  it.each<[string, ProfileTargets, number, boolean]>([
    ['all devices', { all: true }, 100, true],
    ['a device list', { deviceIds: ['1', '2', '3'] }, 3, true],
    ['one label', { labels: ['a'] }, 30, true],
    ['a union: the sum', { labels: ['a', 'b'] }, 80, false],
    ['a union past the enterprise: the enterprise', { labels: ['b', 'y'] }, 100, false],
    ['a union with one label that has devices', { labels: ['a', 'none'] }, 30, true],
    ['one exclusion', { excludeLabels: ['x'] }, 80, true],
    ['two exclusions: the larger one', { excludeLabels: ['x', 'y'] }, 30, false],
    [
      'labels minus exclusions: bounded by both',
      { labels: ['a', 'b'], excludeLabels: ['y'] },
      30,
      false,
    ],
    ['one label minus an empty exclusion', { labels: ['a'], excludeLabels: ['none'] }, 30, true],
    ['a label without devices', { labels: ['none'] }, 0, true],
    [
      'labels no device carries minus anything',
      { labels: ['none'], excludeLabels: ['x'] },
      0,
      true,
    ],
    ['no label at all reaches nothing', {}, 0, true],
  ])('%s', (_name, targets, devices, exact) => {
    expect(devicesToPlan(targets, c)).toEqual({ devices, exact });
  });

  it('never counts fewer devices than the targets reach, and is the count when exact', () => {
    // A fixed pseudo-random generator: the same fleets on every run.
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const names = ['a', 'b', 'c', 'd'];
    const pick = () => names.filter(() => rnd(3) === 0);
    let exactSeen = 0;
    let boundSeen = 0;
    for (let fleet = 0; fleet < 200; fleet++) {
      const devices = Array.from({ length: rnd(12) }, (_, i) => ({
        id: String(i),
        labels: pick(),
      }));
      const tally = new LabelTally();
      for (const d of devices) tally.add(d.labels);
      const stored: TargetCounts = { all: tally.all, labels: tally.labels };
      const targets: ProfileTargets = { labels: pick(), excludeLabels: pick() };
      const truth = devices.filter((d) => reaches(targets, d)).length;
      const got = devicesToPlan(targets, stored);
      expect(got.devices).toBeGreaterThanOrEqual(truth);
      if (got.exact) {
        expect(got.devices).toBe(truth);
        exactSeen++;
      } else boundSeen++;
    }
    // Both branches were exercised.
    expect(exactSeen).toBeGreaterThan(20);
    expect(boundSeen).toBeGreaterThan(20);
  });
});
