/**
 * Statements one bulk `update` command carries. FerretDB 1.24 keeps a PostgreSQL connection for
 * each statement of a command until the command ends: 500 statements in one command waited
 * forever for the 51st connection of its pool of 50, every connection idle and none released
 * (decisions.md §51). Twenty leave the pool room for the rest of the application. mullion's own
 * FerretDB build no longer holds them (§55); the chunks stay for a MONGODB_URI naming an
 * unpatched FerretDB.
 */
export const UPDATES_PER_COMMAND = 20;

/**
 * `ops` written by `write` (one unordered bulk write) in chunks of UPDATES_PER_COMMAND, one after
 * the other; answers the sum of their modifiedCount.
 */
export async function bulkWriteInChunks<O>(
  ops: O[],
  write: (chunk: O[]) => Promise<{ modifiedCount: number }>,
): Promise<number> {
  let modified = 0;
  for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND)
    modified += (await write(ops.slice(i, i + UPDATES_PER_COMMAND))).modifiedCount;
  return modified;
}
