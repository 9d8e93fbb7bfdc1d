/** The API's error codes (DESIGN.md "Errors"): the one place code, HTTP status and text live. */
export const ErrorCode = {
  EntityNotFound: 3001,
  NoAuthToken: 4002,
  PermissionDenied: 4003,
  InvalidToken: 4004,
  Conflict: 4009,
  /** Two profiles would set one path on one device to different values (issue 11). */
  ProfileConflict: 4091,
  UnsupportedMediaType: 4015,
  TooManyRequests: 4029,
  InvalidData: 5091,
  DeviceNotActive: 5142,
  Internal: 5000,
  StoreUnavailable: 5003,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Each code's message when nothing more precise is known. 3001 and 4003 are thrown with a more
 * precise one (`Device not found`, `Permission denied: mdm.windows.device.get required`).
 */
export const ERROR_MESSAGES: Record<ErrorCode, string> = {
  [ErrorCode.EntityNotFound]: 'Entity not found',
  [ErrorCode.NoAuthToken]: 'No auth token',
  [ErrorCode.PermissionDenied]: 'Permission denied',
  [ErrorCode.InvalidToken]: 'Invalid Token',
  [ErrorCode.Conflict]: 'Conflict',
  [ErrorCode.ProfileConflict]: 'Profiles conflict',
  [ErrorCode.UnsupportedMediaType]: 'Content-Type must be application/json',
  [ErrorCode.TooManyRequests]: 'Too many requests',
  [ErrorCode.InvalidData]: 'Invalid data',
  [ErrorCode.DeviceNotActive]: 'Win Device not active',
  [ErrorCode.Internal]: 'Internal server error',
  [ErrorCode.StoreUnavailable]: 'Service unavailable',
};

export const ERROR_HTTP_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.EntityNotFound]: 404,
  [ErrorCode.NoAuthToken]: 401,
  [ErrorCode.PermissionDenied]: 403,
  [ErrorCode.InvalidToken]: 401,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.ProfileConflict]: 409,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.TooManyRequests]: 429,
  [ErrorCode.InvalidData]: 400,
  [ErrorCode.DeviceNotActive]: 400,
  [ErrorCode.Internal]: 500,
  [ErrorCode.StoreUnavailable]: 503,
};

/** What a 3001 names: the first missing link of the path, so the caller knows which id is wrong. */
export type Entity = 'Organization' | 'Enterprise' | 'Device' | 'Command batch' | 'Profile';

export const notFoundMessage = (entity: Entity) => `${entity} not found`;

export const permissionDeniedMessage = (permission: string) =>
  `Permission denied: ${permission} required`;

/** 5142 for an unenrolled device: activating it is not enough, it must enroll again. */
export const DEVICE_UNENROLLED_MESSAGE =
  'Win Device is unenrolled; it must enroll again before it can receive commands';
