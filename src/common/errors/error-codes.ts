/** The API's error codes (DESIGN.md "Errors"): the one place code, HTTP status and text live. */
export const ErrorCode = {
  EntityNotFound: 3001,
  NoAuthToken: 4002,
  PermissionDenied: 4003,
  InvalidToken: 4004,
  Conflict: 4009,
  TooManyRequests: 4029,
  InvalidData: 5091,
  DeviceNotActive: 5142,
  Internal: 5000,
  StoreUnavailable: 5003,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_MESSAGES: Record<ErrorCode, string> = {
  [ErrorCode.EntityNotFound]: 'Entity not found',
  [ErrorCode.NoAuthToken]: 'No auth token',
  [ErrorCode.PermissionDenied]: 'Permission denied',
  [ErrorCode.InvalidToken]: 'Invalid Token',
  [ErrorCode.Conflict]: 'Conflict',
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
  [ErrorCode.TooManyRequests]: 429,
  [ErrorCode.InvalidData]: 400,
  [ErrorCode.DeviceNotActive]: 400,
  [ErrorCode.Internal]: 500,
  [ErrorCode.StoreUnavailable]: 503,
};
