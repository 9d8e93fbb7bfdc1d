import { DomainError, ErrorCode } from '../common/errors';
import type { SettingConflict } from './targeting';

/** 409 4091 naming both profiles and the path (issue 11 "Conflicts"). */
export function profileConflict(c: SettingConflict): DomainError {
  const [a, b] = c.profiles;
  return new DomainError(
    ErrorCode.ProfileConflict,
    `Profiles "${a.name}" and "${b.name}" would set ${c.path} to different values on the same device`,
    [
      { field: 'path', message: c.path },
      { field: 'profiles', message: `${a.id} (${a.name}), ${b.id} (${b.name})` },
    ],
  );
}
