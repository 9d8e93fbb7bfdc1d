/** Seconds a client is asked to wait (Retry-After) while the store is unreachable. */
export const STORE_RETRY_AFTER_SECONDS = 5;

// Driver errors that mean "no store to talk to" rather than "the store refused this
// operation". By name, not instanceof: the driver stays behind repositories (STYLE.md), and
// mongoose's MongooseServerSelectionError is not a MongoError anyway.
const UNREACHABLE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoPoolClosedError',
]);

// Server answers of a node that is shutting down or recovering (MongoDB error codes):
// InterruptedAtShutdown, InterruptedDueToReplStateChange, ShutdownInProgress,
// PrimarySteppedDown, NotWritablePrimary, NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
const UNAVAILABLE_SERVER_CODES = new Set([11600, 11602, 91, 189, 10107, 13435, 13436]);

// Node socket errors that reach the caller unwrapped. Writing a command to a connection whose
// store has just died fails with EPIPE ("This socket has been ended by the other party"): the
// driver waits for 'drain', and that wait rethrows the socket's own error, not a
// MongoNetworkError. Inside a request the store's connections are the only sockets written to
// (WNS and webhook deliveries catch their own), so these codes mean the store went away.
const SOCKET_GONE_CODES = new Set(['EPIPE', 'ECONNRESET']);

// Mongoose's own messages when it cannot hand an operation to the driver (with
// bufferCommands it waits 10 s, then fails this way).
const MONGOOSE_UNREACHABLE =
  /buffering timed out after|Connection was force closed|Client must be connected/;

/**
 * The failure comes from the store being unreachable (down, restarting, network), so the same
 * request may succeed later: rendered as 503 5003 with Retry-After, never as 500. Follows
 * `cause` chains, since services may wrap what the driver threw.
 */
export function isStoreUnreachable(error: unknown, depth = 0): boolean {
  if (!isError(error) || depth > 5) return false;
  if (UNREACHABLE_NAMES.has(error.name) || UNREACHABLE_NAMES.has(error.constructor.name)) {
    return true;
  }
  const { code, hasErrorLabel } = error as { code?: unknown; hasErrorLabel?: unknown };
  if (typeof code === 'string' && SOCKET_GONE_CODES.has(code)) return true;
  if (error.name === 'MongoServerError' && UNAVAILABLE_SERVER_CODES.has(Number(code))) {
    return true;
  }
  // The driver's label for errors after which it clears the connection pool.
  if (typeof hasErrorLabel === 'function' && hasErrorLabel.call(error, 'ResetPool') === true) {
    return true;
  }
  if (error.name === 'MongooseError' && MONGOOSE_UNREACHABLE.test(error.message)) return true;
  // A bulk write that failed on a driver error (pool cleared, network) wraps it here, not in cause.
  const { errorResponse } = error as { errorResponse?: unknown };
  if (error.name === 'MongoBulkWriteError' && isStoreUnreachable(errorResponse, depth + 1)) {
    return true;
  }
  return isStoreUnreachable(error.cause, depth + 1);
}

/** An Error, including one made in another realm (Node's internals under jest's sandbox). */
function isError(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}
