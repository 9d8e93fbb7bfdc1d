import type { ProfileTargets } from './profiles.types';
import { isAll, isDeviceList, labelsOf } from './targeting';

/** Devices a profile's targets reach, from the maintained counts (docs/decisions.md §49). */
export interface DevicesToPlan {
  devices: number;
  /** False: `devices` is an upper bound (a union or an exclusion the counts cannot resolve). */
  exact: boolean;
}

export interface TargetCounts {
  /** Devices of the enterprise. */
  all: number;
  /** Devices per label; every label the targets name is present. */
  labels: ReadonlyMap<string, number>;
}

/**
 * The number of devices the targets reach, or the tightest upper bound the counts give. With L
 * the named labels' device sets and X the excluded ones', a profile reaches |L \ X|:
 * |L| ≤ Σ|Lᵢ| and |L| ≤ all; |L \ X| ≤ all − |X| ≤ all − max|Xᵢ|. Exact when at most one named
 * label (and, with `labels`, no excluded one) has devices, or when the bound is 0. Device lists
 * are exact (the ids were checked against the enterprise).
 */
export function devicesToPlan(t: ProfileTargets, c: TargetCounts): DevicesToPlan {
  if (isAll(t)) return { devices: c.all, exact: true };
  if (isDeviceList(t)) return { devices: t.deviceIds.length, exact: true };
  const { labels, excludeLabels } = labelsOf(t);
  const count = (l: string) => c.labels.get(l) ?? 0;
  const inc = labels.map(count);
  const exc = excludeLabels.map(count);
  const nonZero = (ns: number[]) => ns.filter((n) => n > 0).length;
  const sum = inc.reduce((a, b) => a + b, 0);
  const left = Math.max(0, c.all - Math.max(0, ...exc));
  if (!labels.length && !excludeLabels.length) return { devices: 0, exact: true };
  if (!labels.length) return { devices: left, exact: nonZero(exc) <= 1 || left === 0 };
  const devices = Math.min(sum, left);
  const exact = devices === 0 || (nonZero(inc) <= 1 && nonZero(exc) === 0);
  return { devices, exact };
}
