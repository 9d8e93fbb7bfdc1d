/** Figures and tables for the bench reports (pure: unit-tested in report.spec.ts). */

/** Nearest-rank percentile of ascending values; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The middle value (nearest rank), NaN for none; the input need not be sorted. */
export const median = (values: readonly number[]): number =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** One decimal, or '-' for NaN/Infinity (a figure that could not be measured). */
export const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');

/** Two decimals, or '-'. */
export const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');

/** `value / base` as `1.23×`, or '-' when either is missing or the base is 0. */
export function ratio(value: number, base: number): string {
  if (!Number.isFinite(value) || !Number.isFinite(base) || base === 0) return '-';
  return `${(value / base).toFixed(2)}×`;
}

/**
 * A plain-text table: a header row, a rule, then the rows. The first and last columns are
 * left-aligned (labels and notes), the others right-aligned (figures).
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    widths
      .map((w, i) => {
        const c = r[i] ?? '';
        return i === 0 || i === widths.length - 1 ? c.padEnd(w) : c.padStart(w);
      })
      .join('  ')
      .trimEnd();
  return [
    line(rows[0]),
    widths.map((n) => '-'.repeat(n)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

/**
 * A list of store sizes: `10000,100000,1000000`, with `k`/`m` suffixes allowed (`10k,1m`).
 * Ascending, distinct, each ≥ 1; throws with a message fit for the user otherwise.
 */
export function parseSizes(raw: string): number[] {
  const sizes = raw.split(',').map((part) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$/i.exec(part);
    const n = m
      ? Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2].toLowerCase() as '' | 'k' | 'm']
      : NaN;
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`not a store size: "${part}" (e.g. 10000 or 10k)`);
    }
    return n;
  });
  for (let i = 1; i < sizes.length; i++) {
    if (sizes[i] <= sizes[i - 1]) throw new Error(`sizes must ascend: ${raw}`);
  }
  return sizes;
}
