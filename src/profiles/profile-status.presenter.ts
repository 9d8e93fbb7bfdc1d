import type { SettingOutcome } from './profiles.types';
import type { DeviceProfile, ProfileStatus } from './profile-status.service';
import type { ReconcileAssignment } from './reconcile.repository';

/** The API answers SyncML codes as numbers (as the command presenter does). */
function presentSetting(s: SettingOutcome) {
  return {
    path: s.path,
    state: s.state,
    ...(s.statusCode !== undefined && { statusCode: Number(s.statusCode) }),
    ...(s.deviceValue !== undefined && { deviceValue: s.deviceValue }),
    ...(s.verified !== undefined && { verified: s.verified }),
  };
}

/** failed or drifted: the first setting that is, with its code and the device's value. */
function failureOf(a: ReconcileAssignment) {
  if (a.state !== 'failed' && a.state !== 'drifted') return null;
  const s = a.settings.find((x) => x.state === 'failed' || x.state === 'drifted');
  if (!s) return null;
  return {
    path: s.path,
    statusCode: s.statusCode === undefined ? null : Number(s.statusCode),
    ...(s.deviceValue !== undefined && { deviceValue: s.deviceValue }),
  };
}

export function presentProfileStatus(s: ProfileStatus) {
  return {
    profileId: s.profileId,
    revision: s.revision,
    counts: s.counts,
    devices: {
      ...s.devices,
      docs: s.devices.docs.map((a) => ({
        winDeviceId: a.winDeviceId,
        state: a.state,
        revision: a.revision,
        failure: failureOf(a),
        stateChangedAt: a.stateChangedAt,
        nextVerifyAt: a.nextVerifyAt,
      })),
    },
  };
}

export function presentDeviceProfile({ assignment: a, profile }: DeviceProfile) {
  return {
    profileId: a.profileId,
    name: profile?.name ?? null,
    scope: profile?.scope ?? null,
    revision: a.revision,
    state: a.state,
    settings: a.settings.map(presentSetting),
    failure: failureOf(a),
    stateChangedAt: a.stateChangedAt,
    nextVerifyAt: a.nextVerifyAt,
  };
}
