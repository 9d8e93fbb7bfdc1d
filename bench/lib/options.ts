/** Reads `--name` as an integer within [min, max], or throws with the usage text. */
export function integerOption(
  values: Record<string, string | boolean | undefined>,
  name: string,
  min: number,
  max: number,
  usage: string,
): number {
  const raw = String(values[name]);
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${raw}"\n${usage}`);
  }
  return n;
}
