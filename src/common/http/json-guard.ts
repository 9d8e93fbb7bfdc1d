import type { ErrorDetail } from '../errors';

/** What a JSON body may hold, checked on the raw text before JSON.parse builds anything. */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects (JSON_MAX_DEPTH). */
  maxDepth: number;
  /** Most members and elements in the whole body. */
  maxEntries: number;
}

/**
 * Members plus elements a body may hold. The largest legitimate body, a batch of
 * COMMANDS_MAX_PER_BATCH (at most 10000) commands, has about 6 entries per command.
 */
export const JSON_MAX_ENTRIES = 100_000;

/** Keys that name an object's prototype machinery: refused like any unknown field. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * One pass over the text, O(n) and without recursion: how deep arrays and objects nest and how
 * many entries they hold, ignoring brackets inside strings. It does not check syntax (JSON.parse
 * does that next); it only makes sure nothing deep or huge is ever built. Returns the problem,
 * or null.
 */
export function scanJsonText(text: string, limits: JsonLimits): string | null {
  let depth = 0;
  let commas = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limits.maxDepth) return `JSON nested deeper than ${limits.maxDepth} levels`;
      containers++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (c === COMMA && ++commas + containers > limits.maxEntries) {
      return `JSON with more than ${limits.maxEntries} members and elements`;
    }
  }
  return null;
}

/**
 * Every `__proto__`, `constructor` or `prototype` key of a parsed body, by dotted path (the
 * fields class-validator names). JSON.parse makes them plain own properties; refusing them here
 * keeps them from reaching class-transformer, which assigns keys onto new objects. Iterative:
 * the depth is already bounded, but no recursion is needed either.
 */
export function forbiddenKeys(value: unknown): ErrorDetail[] {
  const found: ErrorDetail[] = [];
  const pending: [unknown, string][] = [[value, '']];
  while (pending.length) {
    const [node, path] = pending.pop() as [unknown, string];
    if (typeof node !== 'object' || node === null) continue;
    const keys = Object.keys(node);
    for (const key of keys) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        found.push({ field, message: `property ${key} should not exist` });
        continue;
      }
      pending.push([(node as Record<string, unknown>)[key], field]);
    }
  }
  return found.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}
