import type { ProfileSetting, ProfileTargets, WinProfile } from './profiles.types';

/** Pure targeting rules: which devices a profile reaches, and which profiles collide. */

export function isAll(t: ProfileTargets): t is { all: true } {
  return 'all' in t && t.all === true;
}

export function isDeviceList(t: ProfileTargets): t is { deviceIds: string[] } {
  return 'deviceIds' in t && Array.isArray(t.deviceIds);
}

export function labelsOf(t: ProfileTargets): { labels: string[]; excludeLabels: string[] } {
  if (isAll(t) || isDeviceList(t)) return { labels: [], excludeLabels: [] };
  return { labels: t.labels ?? [], excludeLabels: t.excludeLabels ?? [] };
}

/** Every label the targets name: a change to one of them may change whom the profile reaches. */
export function targetLabelsOf(t: ProfileTargets): string[] {
  const { labels, excludeLabels } = labelsOf(t);
  return [...new Set([...labels, ...excludeLabels])];
}

export interface TargetDevice {
  id: string;
  labels: string[];
}

/** `{labels}` reaches devices with any of them, minus those with any `excludeLabels`. */
export function reaches(t: ProfileTargets, device: TargetDevice): boolean {
  if (isAll(t)) return true;
  if (isDeviceList(t)) return t.deviceIds.includes(device.id);
  const { labels, excludeLabels } = labelsOf(t);
  if (excludeLabels.some((l) => device.labels.includes(l))) return false;
  return labels.length === 0
    ? excludeLabels.length > 0
    : labels.some((l) => device.labels.includes(l));
}

/** The two settings disagree: same path, different format or value (action does not matter). */
function differs(a: ProfileSetting, b: ProfileSetting): boolean {
  return a.format !== b.format || (a.value ?? null) !== (b.value ?? null);
}

export interface SettingConflict {
  path: string;
  profiles: [Pick<WinProfile, 'id' | 'name'>, Pick<WinProfile, 'id' | 'name'>];
}

/** The first path both profiles set to different values, or null. */
export function conflictingPath(
  a: Pick<WinProfile, 'settings'>,
  b: Pick<WinProfile, 'settings'>,
): string | null {
  const theirs = new Map(b.settings.map((s) => [s.path, s]));
  for (const s of a.settings) {
    const o = theirs.get(s.path);
    if (o && differs(s, o)) return s.path;
  }
  return null;
}

type Targeted = Pick<WinProfile, 'id' | 'name' | 'settings' | 'targets' | 'scope'>;

/**
 * The first conflict among `profiles` on these devices (with their labels as they would be),
 * or null. Only pairs that disagree on a path are evaluated against the devices, so the cost is
 * devices × conflicting pairs, not devices × profiles².
 */
export function firstConflictOnDevices(
  profiles: Targeted[],
  devices: TargetDevice[],
  /** Only pairs with at least one of these profiles (the ones a change affects); all if absent. */
  involving?: ReadonlySet<string>,
): SettingConflict | null {
  const pairs: { a: Targeted; b: Targeted; path: string }[] = [];
  for (let i = 0; i < profiles.length; i++)
    for (let j = i + 1; j < profiles.length; j++) {
      const [a, b] = [profiles[i], profiles[j]];
      // Device- and user-scope settings land in different trees (./Device vs ./User).
      if (a.scope !== b.scope) continue;
      if (involving && !involving.has(a.id) && !involving.has(b.id)) continue;
      const path = conflictingPath(a, b);
      if (path) pairs.push({ a, b, path });
    }
  if (!pairs.length) return null;
  for (const d of devices)
    for (const { a, b, path } of pairs)
      if (reaches(a.targets, d) && reaches(b.targets, d))
        return { path, profiles: [pick(a), pick(b)] };
  return null;
}

function pick(p: Targeted): Pick<WinProfile, 'id' | 'name'> {
  return { id: p.id, name: p.name };
}
