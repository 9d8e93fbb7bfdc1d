/**
 * Query shapes and index-prefix coverage: MongoDB's `notablescan`, as a test (docs/testing.md).
 * Pure: a driver command in, its shapes out; a shape and a collection's declared indexes in,
 * covered or why not out. The e2e run records the shapes (shape-recorder.ts) and global teardown
 * checks them (query-shape-check.ts).
 */

/**
 * How a filter constrains one key. `eq` and `in` pick index points (ESR's E; an `$in` is a list of
 * points), `range` an interval (ESR's R); `other` (negations, `$exists`, `$size`, regexes, …)
 * bounds no index scan and is only ever applied to documents the scan already found.
 */
export type KeyKind = 'eq' | 'in' | 'range' | 'other';

export interface QueryShape {
  collection: string;
  /** find, findAndModify, update, delete, count, aggregate, distinct. */
  op: string;
  /** One entry per `$or` branch (one when there is no `$or`), each key → kind, keys sorted. */
  branches: Record<string, KeyKind>[];
  /** Sort keys in order, `-` prefixed when descending. */
  sort: string[];
}

/** An index as `schema.indexes()` declares it: keys in order, with direction. */
export interface DeclaredIndex {
  keys: [string, number][];
  unique?: boolean;
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

function isOperatorObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith('$'));
}

function kindOf(value: unknown): KeyKind {
  // A scalar, an ObjectId, a Date, null, an array or an embedded document: equality.
  if (value instanceof RegExp) return 'other';
  if (!isOperatorObject(value)) return 'eq';
  const ops = Object.keys(value);
  if (ops.includes('$eq')) return 'eq';
  if (ops.includes('$in')) return 'in';
  if (ops.some((op) => RANGE_OPS.has(op))) return 'range';
  return 'other';
}

/** Keys of a filter's conjunction, and its `$or` alternatives (each itself a filter). */
function flatten(
  filter: Record<string, unknown>,
  into: Record<string, KeyKind>,
  ors: Record<string, unknown>[][],
): void {
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const part of value) flatten(part as Record<string, unknown>, into, ors);
    } else if (key === '$or' && Array.isArray(value)) {
      ors.push(value as Record<string, unknown>[]);
    } else if (key.startsWith('$')) {
      // $expr, $where, $nor, $text: nothing an index prefix can serve.
      into[key] = 'other';
    } else {
      const kind = kindOf(value);
      // A key constrained twice keeps its tightest kind (eq < in < range < other).
      const order: KeyKind[] = ['eq', 'in', 'range', 'other'];
      const prior = into[key];
      into[key] = prior && order.indexOf(prior) < order.indexOf(kind) ? prior : kind;
    }
  }
}

function sortedKeys(kinds: Record<string, KeyKind>): Record<string, KeyKind> {
  return Object.fromEntries(Object.entries(kinds).sort(([a], [b]) => a.localeCompare(b)));
}

/** The branches of a filter: the conjunction once per combination of its `$or` alternatives. */
export function branchesOf(filter: Record<string, unknown> | undefined): Record<string, KeyKind>[] {
  const base: Record<string, KeyKind> = {};
  const ors: Record<string, unknown>[][] = [];
  flatten(filter ?? {}, base, ors);
  let branches = [base];
  for (const alternatives of ors) {
    branches = branches.flatMap((b) =>
      alternatives.map((alt) => ({ ...b, ...branchesOf(alt)[0] })),
    );
  }
  return branches.map(sortedKeys);
}

function sortOf(sort: unknown): string[] {
  if (!sort || typeof sort !== 'object') return [];
  const entries = sort instanceof Map ? [...sort.entries()] : Object.entries(sort);
  return entries.map(([k, dir]) => (Number(dir) < 0 ? `-${k}` : String(k)));
}

type Command = Record<string, unknown>;

/**
 * The shapes one driver command issues (commandStarted's `command`): a bulk update or delete
 * has one per statement. Inserts and cursor continuations (getMore) have none.
 */
export function shapesOfCommand(command: Command): QueryShape[] {
  const shape = (op: string, collection: unknown, filter: unknown, sort?: unknown) => ({
    collection: String(collection),
    op,
    branches: branchesOf(filter as Record<string, unknown> | undefined),
    sort: sortOf(sort),
  });
  if ('find' in command) return [shape('find', command.find, command.filter, command.sort)];
  if ('findAndModify' in command) {
    return [shape('findAndModify', command.findAndModify, command.query, command.sort)];
  }
  if ('update' in command && Array.isArray(command.updates)) {
    return (command.updates as { q: unknown }[]).map((u) => shape('update', command.update, u.q));
  }
  if ('delete' in command && Array.isArray(command.deletes)) {
    return (command.deletes as { q: unknown }[]).map((d) => shape('delete', command.delete, d.q));
  }
  if ('count' in command) return [shape('count', command.count, command.query)];
  if ('distinct' in command) return [shape('distinct', command.distinct, command.query)];
  if ('aggregate' in command && Array.isArray(command.pipeline)) {
    const stages = command.pipeline as Command[];
    const match = stages[0]?.$match;
    const next = match ? stages[1] : stages[0];
    return [shape('aggregate', command.aggregate, match, next?.$sort)];
  }
  return [];
}

/** One line per shape, the same for equal shapes: the key the recorder and allow-list use. */
export function shapeKey(s: QueryShape): string {
  const branches = s.branches.map((b) =>
    Object.entries(b)
      .map(([k, kind]) => `${k}:${kind}`)
      .join(','),
  );
  const sort = s.sort.length ? ` sort ${s.sort.join(',')}` : '';
  return `${s.collection} ${s.op} {${branches.join(' | ')}}${sort}`;
}

/**
 * Whether `index` serves one branch the way MongoDB's planner would without reading more than
 * the answer's neighbourhood: its leading keys are bound by every equality and `$in` key of the
 * filter that any of the collection's indexes holds (`indexed`; in any order), the sort keys
 * continue the index after them (or are bound by equality), and each range key the index holds
 * comes right after that. Keys no index holds (`config.action`, `sessionRef`) and keys with
 * `other` conditions are applied to what the scan found: they narrow no scan either way. A filter with no keys at all is served only by an
 * index whose leading keys are the sort (a paged listing).
 */
export function indexServes(
  index: DeclaredIndex,
  branch: Record<string, KeyKind>,
  sort: string[],
  indexed: Set<string> = new Set(index.keys.map(([k]) => k)),
): boolean {
  const keys = index.keys.map(([k]) => k);
  const dirs = new Map(index.keys.map(([k, d]) => [k, d]));
  let p = 0;
  while (p < keys.length && (branch[keys[p]] === 'eq' || branch[keys[p]] === 'in')) p++;
  // A point key some index holds but this prefix does not bind: the scan reads what that key
  // would have excluded (the device's whole history when cmdId is left to a residual filter).
  const points = Object.entries(branch).filter(
    ([k, kind]) => (kind === 'eq' || kind === 'in') && indexed.has(k),
  );
  if (points.some(([k]) => keys.indexOf(k) < 0 || keys.indexOf(k) >= p)) return false;
  let j = p;
  let direction = 0;
  for (const [i, s] of sort.entries()) {
    const desc = s.startsWith('-');
    const key = desc ? s.slice(1) : s;
    if (branch[key] === 'eq') continue;
    // A last `_id` after an index-served sort only orders documents whose sort keys are equal
    // (find-page.ts's tiebreaker for stable pages).
    if (key === '_id' && i === sort.length - 1 && i > 0 && keys[j] !== '_id') continue;
    if (keys[j] !== key) return false;
    // The whole sort must read the index forwards or the whole of it backwards.
    const along = (dirs.get(key) ?? 1) * (desc ? -1 : 1) > 0 ? 1 : -1;
    if (direction && along !== direction) return false;
    direction = along;
    j++;
  }
  // Range keys the sort did not walk must continue the index, one after another.
  const sorted = new Set(sort.map((s) => s.replace(/^-/, '')));
  for (const [k, kind] of Object.entries(branch)) {
    if (kind !== 'range' || sorted.has(k) || !keys.includes(k)) continue;
    if (keys.indexOf(k) < p || keys.indexOf(k) > j) return false;
    if (keys.indexOf(k) === j) j++;
  }
  // Something must bound or order the scan: points, the sort, or a range on the next key.
  return p > 0 || sort.length > 0 || branch[keys[0]] === 'range';
}

/** `_id`, bound by equality or `$in`, is the primary key every store serves. */
const ID_INDEX: DeclaredIndex = { keys: [['_id', 1]], unique: true };

/** Why the shape is not served by any of the collection's indexes, or null when it is. */
export function uncovered(shape: QueryShape, indexes: DeclaredIndex[]): string | null {
  const all = [ID_INDEX, ...indexes];
  const indexed = new Set(all.flatMap((i) => i.keys.map(([k]) => k)));
  const misses = shape.branches.filter(
    (b) =>
      !(b._id === 'eq' || b._id === 'in') &&
      !all.some((i) => indexServes(i, b, shape.sort, indexed)),
  );
  if (!misses.length) return null;
  const declared = indexes.map((i) => `{${i.keys.map(([k, d]) => `${k}:${d}`).join(', ')}}`);
  return `no declared index serves it (declared: ${declared.join(' ') || 'none besides _id'})`;
}
