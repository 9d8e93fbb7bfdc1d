import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Schema } from 'mongoose';
import { DeclaredIndex, uncovered } from './query-shapes';
import { QUERY_SHAPE_ALLOWED } from './query-shape-allow';
import type { RecordedShape } from './shape-recorder';

const ROOT = join(__dirname, '..', '..');

function schemaFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? schemaFiles(join(dir, e.name))
      : e.name.endsWith('.schema.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

/**
 * Per collection, the indexes the server's mongoose schemas declare (src/**\/*.schema.ts, read
 * through `schema.indexes()`, so a field's `unique: true` counts too). Collections the server
 * writes without a schema (the instance lease) declare only `_id`.
 */
export function declaredIndexes(srcDir = join(ROOT, 'src')): Map<string, DeclaredIndex[]> {
  const out = new Map<string, DeclaredIndex[]>();
  for (const file of schemaFiles(srcDir)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (!(value instanceof Schema)) continue;
      const collection = (value.get('collection') as string | undefined) ?? '';
      if (!collection) continue;
      const indexes = value.indexes().map(([fields, options]) => ({
        keys: Object.entries(fields).map(([k, d]): [string, number] => [k, Number(d)]),
        unique: !!(options as { unique?: boolean }).unique,
      }));
      out.set(collection, [...(out.get(collection) ?? []), ...indexes]);
    }
  }
  return out;
}

/** The recordings in `dir`, one line per shape, merged: the first origin of each shape wins. */
export function readRecordings(dir: string): RecordedShape[] {
  const byKey = new Map<string, RecordedShape>();
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as RecordedShape;
      if (!byKey.has(r.key)) byKey.set(r.key, r);
    }
  }
  return [...byKey.values()];
}

export interface ShapeReport {
  checked: number;
  allowed: number;
  failures: string[];
  /** Allow-list entries no recorded shape used (only worth reporting on a full run). */
  unusedAllowances: string[];
}

/** Compares recorded shapes with the declared indexes and the allow-list. */
export function checkShapes(
  recorded: RecordedShape[],
  indexes: Map<string, DeclaredIndex[]>,
  allowed: Record<string, string> = QUERY_SHAPE_ALLOWED,
): ShapeReport {
  const failures: string[] = [];
  let allowedCount = 0;
  const used = new Set<string>();
  for (const r of recorded) {
    if (allowed[r.key]) {
      allowedCount++;
      used.add(r.key);
      continue;
    }
    const why = uncovered(r.shape, indexes.get(r.shape.collection) ?? []);
    if (!why) continue;
    failures.push(
      [
        `  ${r.key}`,
        `    ${why}`,
        `    seen in ${r.test}`,
        ...r.origin.slice(0, 6).map((f) => `      at ${f}`),
      ].join('\n'),
    );
  }
  const unusedAllowances = Object.keys(allowed).filter((k) => !used.has(k));
  return { checked: recorded.length, allowed: allowedCount, failures, unusedAllowances };
}

/** The message global teardown throws with (jest then exits non-zero). */
export function shapeFailureMessage(report: ShapeReport, dir: string): string {
  return (
    `\n[query shapes] ${report.failures.length} of ${report.checked} query shapes the server ` +
    'issued are not served by a declared index prefix (test/support/query-shapes.ts; ' +
    'docs/testing.md). Fix the query, declare the index, or allow it with a reason in ' +
    `test/support/query-shape-allow.ts. Recordings: ${dir}\n` +
    report.failures.join('\n')
  );
}
