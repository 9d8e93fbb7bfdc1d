import type { ErrorDetail } from '../common/errors';
import { hasIllegalXmlChar, parseXmlSafely } from '../common/xml';
import type { CommandConfig } from './commands.types';

/**
 * OMA-DM URI (OMA-TND, MS-MDM 2.2.3): a relative URI starting with `./`, no whitespace or
 * control characters, no empty segments, `.`/`..` only as the first segment.
 */
export function omaUriProblem(path: string): string | null {
  if (!path.startsWith('./')) return 'must be an OMA-DM URI starting with ./';
  if (/[\s\p{Cc}]/u.test(path)) return 'must not contain whitespace or control characters';
  const segments = path.slice(2).split('/');
  if (segments.some((s) => s === '')) return 'must not contain empty segments (// or a trailing /)';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain . or .. segments';
  return null;
}

const INT = /^[+-]?\d{1,19}$/;
// Signed 64-bit minimum to unsigned 64-bit maximum: CSP integers are DWORDs, QWORDs or signed.
const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 64n - 1n;
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME =
  /^([01]\d|2[0-3]):([0-5]\d)(:([0-5]\d)(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?([0-5]\d))?$/;

function validDate(v: string): boolean {
  const m = DATE.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

/** Commands' values are ≤ 500 characters; profile values may be larger (PROFILE_VALUE_MAX_BYTES). */
const XML_VALUE_MAX_BYTES = 64 * 1024;

function wellFormedXml(v: string, maxBytes: number): boolean {
  try {
    const root = parseXmlSafely(`<mullion-value>${v}</mullion-value>`, { maxBytes });
    return root.children.some((c) => typeof c !== 'string');
  } catch {
    return false;
  }
}

/** Why `value` does not fit `format`, or null when it does. */
export function valueFormatProblem(
  format: CommandConfig['format'],
  value: string,
  maxXmlBytes = XML_VALUE_MAX_BYTES,
): string | null {
  switch (format) {
    case 'int': {
      if (!INT.test(value)) return 'must be a decimal integer for format int';
      const n = BigInt(value);
      return n < INT_MIN || n > INT_MAX ? 'is outside -2^63 … 2^64-1' : null;
    }
    case 'bool':
      return value === 'true' || value === 'false' ? null : 'must be true or false for format bool';
    case 'float':
      return FLOAT.test(value) ? null : 'must be a decimal floating-point number for format float';
    case 'b64':
    case 'bin':
      return B64.test(value) ? null : `must be base64 (RFC 4648, padded) for format ${format}`;
    case 'xml':
      return wellFormedXml(value, maxXmlBytes) ? null : 'must be well-formed XML for format xml';
    case 'date':
      return validDate(value) ? null : 'must be an ISO 8601 date (YYYY-MM-DD) for format date';
    case 'time':
      return TIME.test(value)
        ? null
        : 'must be an ISO 8601 time (hh:mm[:ss[.fff]][Z|±hh:mm]) for format time';
    case 'node':
    case 'null':
      return `must be absent for format ${format}`;
    case 'chr':
      return null;
  }
}

/** Rules beyond the DTO schema (issue: "Beyond the schema, reject with 400 5091"). */
export function commandConfigProblems(
  config: CommandConfig,
  field: string,
  maxXmlBytes = XML_VALUE_MAX_BYTES,
): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const add = (f: string, message: string) => out.push({ field: `${field}.${f}`, message });
  const pathProblem = hasIllegalXmlChar(config.path)
    ? 'contains a character XML 1.0 cannot carry'
    : omaUriProblem(config.path);
  if (pathProblem) add('path', `path ${pathProblem}`);

  const { action, format, value } = config;
  if (value !== undefined && hasIllegalXmlChar(value)) {
    add('value', 'value contains a character XML 1.0 cannot carry');
    return out;
  }
  if ((action === 'Get' || action === 'Delete') && value !== undefined) {
    add('value', `value must be absent for ${action}`);
    return out;
  }
  if (action === 'Copy') {
    // Copy's value is the source node (SyncML Copy: Item/Source/LocURI).
    if (value === undefined) add('value', 'value (the source URI) is required for Copy');
    else {
      const p = omaUriProblem(value);
      if (p) add('value', `value (the source URI) ${p}`);
    }
    return out;
  }
  if (value !== undefined) {
    const p = valueFormatProblem(format, value, maxXmlBytes);
    if (p) add('value', `value ${p}`);
  } else if (
    (action === 'Add' || action === 'Replace') &&
    !['chr', 'node', 'null'].includes(format)
  ) {
    add('value', `value is required for ${action} with format ${format}`);
  }
  return out;
}

/** The per-message limits an atomic batch must fit (an Atomic never spans messages). */
export interface AtomicLimits {
  maxCommands: number;
  /** The server's default MaxMsgSize: the budget assumed for a device that announces none. */
  maxMsgSize: number;
}

// Generous upper bounds for what the XML adds around the values: per command (CmdID, Item,
// Target/LocURI, Meta with Format and Type and their namespaces), the Atomic element, and the
// answer's envelope with a few Statuses. Delivery measures the real Atomic again against the
// device's own MaxMsgSize and fails the whole batch if it cannot fit.
const ATOMIC_COMMAND_OVERHEAD = 320;
const ATOMIC_MESSAGE_OVERHEAD = 2048;
const escapedLength = (s: string) =>
  Buffer.byteLength(s, 'utf8') +
  (s.match(/[&<>\r]/g) ?? []).reduce((n, c) => n + (c === '&' || c === '\r' ? 4 : 3), 0);

/**
 * Why a batch cannot be delivered atomically (management-session.md §3.8, §3.9): a whole Atomic
 * must fit one message; Windows refuses Get inside Atomic (500, the Atomic 507) and an Add then
 * Replace of one node inside it; Copy is not a Windows command; its commands all address
 * ./User/… or none do, so the logged-on-user rule (§3.11) holds the batch back as a whole.
 */
export function atomicBatchProblems(configs: CommandConfig[], limits: AtomicLimits): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  configs.forEach((c, i) => {
    if (c.action === 'Get' || c.action === 'Copy') {
      out.push({
        field: `commands.${i}.config.action`,
        message: `${c.action} cannot be sent inside an Atomic`,
      });
    }
  });
  // OMA-PS (Windows): Add then Replace of the same node inside one Atomic is not supported.
  const added = new Set(configs.filter((c) => c.action === 'Add').map((c) => c.path));
  configs.forEach((c, i) => {
    if (c.action === 'Replace' && added.has(c.path)) {
      out.push({
        field: `commands.${i}.config.path`,
        message: 'an Atomic cannot both Add and Replace the same node',
      });
    }
  });
  const user = configs.filter((c) => c.path.startsWith('./User/')).length;
  if (user && user !== configs.length) {
    out.push({ field: 'atomic', message: 'an atomic batch addresses ./User/ nodes only, or none' });
  }
  if (configs.length > limits.maxCommands) {
    out.push({
      field: 'atomic',
      message: `an atomic batch has at most ${limits.maxCommands} commands (one message)`,
    });
  }
  const bytes =
    ATOMIC_MESSAGE_OVERHEAD +
    configs.reduce(
      (n, c) => n + ATOMIC_COMMAND_OVERHEAD + escapedLength(c.path) + escapedLength(c.value ?? ''),
      0,
    );
  if (bytes > limits.maxMsgSize) {
    out.push({
      field: 'atomic',
      message: `an atomic batch must fit one message of ${limits.maxMsgSize} bytes (about ${bytes} needed)`,
    });
  }
  return out;
}
