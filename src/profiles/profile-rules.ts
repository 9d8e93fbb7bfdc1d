import { commandConfigProblems } from '../commands/command-rules';
import type { ErrorDetail } from '../common/errors';
import type { ProfileScope, ProfileSetting, ProfileTargets } from './profiles.types';

/**
 * Where each scope's settings live (MS-MDM 2.2.3: `./Device/Vendor/MSFT/…` is the device-wide
 * tree and `./Vendor/MSFT/…` its short form; `./User/Vendor/MSFT/…` the logged-on user's).
 * Other roots (`./DevDetail`, `./DevInfo`, `./SyncML`) are read-only or the client's own and
 * are not profile material.
 */
export const SCOPE_ROOTS: Record<ProfileScope, readonly string[]> = {
  device: ['./Device/', './Vendor/'],
  user: ['./User/'],
};

export interface SettingLimits {
  valueMaxBytes: number;
  maxSettings: number;
}

/**
 * The rules beyond the DTO schema: the commands endpoint's path and value rules (reused), the
 * scope's tree, the value size limit, at most `maxSettings`, one setting per path.
 */
export function settingsProblems(
  scope: ProfileScope,
  settings: ProfileSetting[],
  limits: SettingLimits,
): ErrorDetail[] {
  if (settings.length > limits.maxSettings)
    return [
      { field: 'settings', message: `settings must contain at most ${limits.maxSettings} entries` },
    ];
  const out: ErrorDetail[] = [];
  const seen = new Map<string, number>();
  settings.forEach((s, i) => {
    const field = `settings.${i}`;
    const size = s.value === undefined ? 0 : Buffer.byteLength(s.value, 'utf8');
    if (size > limits.valueMaxBytes) {
      out.push({
        field: `${field}.value`,
        message: `value must be at most ${limits.valueMaxBytes} bytes (PROFILE_VALUE_MAX_BYTES)`,
      });
      return;
    }
    const problems = commandConfigProblems(
      { path: s.path, action: s.action, format: s.format, value: s.value },
      field,
      limits.valueMaxBytes + 64,
    );
    out.push(...problems);
    if (problems.some((p) => p.field === `${field}.path`)) return;
    const roots = SCOPE_ROOTS[scope];
    if (!roots.some((r) => s.path.startsWith(r)))
      out.push({
        field: `${field}.path`,
        message: `path must be under ${roots.join(' or ')} for scope ${scope}`,
      });
    const first = seen.get(s.path);
    if (first !== undefined)
      out.push({ field: `${field}.path`, message: `path repeats settings.${first}.path` });
    else seen.set(s.path, i);
  });
  return out;
}

/** Exactly one of `{all: true}`, `{labels, excludeLabels}`, `{deviceIds}`. */
export function targetsProblems(t: {
  all?: boolean;
  labels?: string[];
  excludeLabels?: string[];
  deviceIds?: string[];
}): ErrorDetail[] {
  const shapes = [
    t.all !== undefined,
    t.labels !== undefined || t.excludeLabels !== undefined,
    t.deviceIds !== undefined,
  ].filter(Boolean).length;
  if (shapes !== 1)
    return [
      {
        field: 'targets',
        message:
          'targets must be exactly one of {all: true}, {labels, excludeLabels} or {deviceIds}',
      },
    ];
  if (t.all !== undefined && t.all !== true)
    return [{ field: 'targets.all', message: 'all must be true' }];
  return [];
}

/** The stored shape: only the keys of the chosen form, labels de-duplicated. */
export function normalizeTargets(t: {
  all?: boolean;
  labels?: string[];
  excludeLabels?: string[];
  deviceIds?: string[];
}): ProfileTargets {
  if (t.all) return { all: true };
  if (t.deviceIds) return { deviceIds: [...new Set(t.deviceIds.map((id) => id.toLowerCase()))] };
  const out: { labels?: string[]; excludeLabels?: string[] } = {};
  if (t.labels) out.labels = [...new Set(t.labels)];
  if (t.excludeLabels) out.excludeLabels = [...new Set(t.excludeLabels)];
  return out;
}
