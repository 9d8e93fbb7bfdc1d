/** Pure helpers of the maintained target counts (target-counts.repository.ts). */

/**
 * The counter's `_id`. A label may contain `:`, but the enterprise id before the first one is
 * always 24 hex digits, so two counters never share an id.
 */
export function targetCountId(winEnterpriseId: string, label: string | null): string {
  return label === null ? winEnterpriseId : `${winEnterpriseId}:${label}`;
}

/**
 * What one device's label change does to the counters: +1 for each label added, −1 for each
 * removed (duplicates in either list count once).
 */
export function labelDeltas(
  before: readonly string[],
  after: readonly string[],
): Map<string, number> {
  const was = new Set(before);
  const is = new Set(after);
  const out = new Map<string, number>();
  for (const l of is) if (!was.has(l)) out.set(l, 1);
  for (const l of was) if (!is.has(l)) out.set(l, -1);
  return out;
}

/** Devices in all and per label, counted from the devices' label lists (the recount's truth). */
export class LabelTally {
  all = 0;
  readonly labels = new Map<string, number>();

  add(labels: readonly string[] | undefined): void {
    this.all++;
    for (const l of new Set(labels ?? [])) this.labels.set(l, (this.labels.get(l) ?? 0) + 1);
  }
}
