/**
 * Invitation lifetimes: whole seconds (`3600` or 3600), units (`90m`, `12h`, `7d`, `1w`, also
 * combined as `1d12h`) or an ISO 8601 duration without years and months, which have no fixed
 * length (`PT1H`, `P7D`, `P1DT12H`). Returns seconds, or null when the text is none of these.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
/** Anything longer than this is not a lifetime (and stays a safe integer). */
const MAX_SECONDS = 100 * 365 * 86400;

export function parseDuration(input: unknown): number | null {
  let seconds: number | null = null;
  if (typeof input === 'number') {
    seconds = Number.isInteger(input) ? input : null;
  } else if (typeof input === 'string') {
    const text = input.trim();
    if (/^\d{1,12}$/.test(text)) seconds = Number(text);
    else if (/^(\d{1,9}[smhdw])+$/i.test(text)) seconds = sumUnits(text.toLowerCase());
    else seconds = iso(text.toUpperCase());
  }
  if (seconds === null || seconds <= 0 || seconds > MAX_SECONDS) return null;
  return seconds;
}

function sumUnits(text: string): number {
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhdw])/g))
    total += Number(n) * UNIT_SECONDS[unit];
  return total;
}

function iso(text: string): number | null {
  const m = ISO.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [w, d, h, min, s] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  return w * 604800 + d * 86400 + h * 3600 + min * 60 + s;
}
