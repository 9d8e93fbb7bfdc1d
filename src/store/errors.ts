/**
 * No store can be had: MONGODB_URI unset, no mongod, and FerretDB neither cached nor buildable.
 * The message is written for a person and says what to do; print it without a stack trace.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}
