/**
 * Runs `find` with each filter in turn and answers the first result found, or null. For a lookup
 * by one of several fields: FerretDB pushes down only top-level equalities, so an `$or` of the
 * fields decodes every document the rest of the filter selects, where each field on its own is
 * one indexed read (decisions.md §56).
 */
export async function firstMatch<F, T>(
  filters: readonly F[],
  find: (filter: F) => Promise<T | null>,
): Promise<T | null> {
  for (const filter of filters) {
    const found = await find(filter);
    if (found) return found;
  }
  return null;
}
