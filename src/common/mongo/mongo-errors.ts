/** E11000: a unique index (or `_id`) refused the write. */
const DUPLICATE_KEY = 11000;

interface BulkWriteFailure {
  /** MongoDB reports `code` on each write error; FerretDB nests it under `err`. */
  writeErrors?: { code?: number; err?: { code?: number } }[];
}

/** The write lost to an existing document with the same unique key. */
export function isDuplicateKey(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === DUPLICATE_KEY;
}

/**
 * An unordered `insertMany` that failed only because some documents already existed (a retry,
 * or a racing duplicate): everything else was written.
 */
export function onlyDuplicateKeys(e: unknown): boolean {
  const errors = (e as BulkWriteFailure | null)?.writeErrors;
  if (!errors) return isDuplicateKey(e);
  return errors.length > 0 && errors.every((w) => (w.code ?? w.err?.code) === DUPLICATE_KEY);
}
