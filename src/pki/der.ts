/**
 * Minimal DER reader (X.690) for the few structures we must read byte-exactly: a signature is
 * verified over the original encoding of the signed part, so it is sliced, never re-encoded.
 * Only single-byte tags and definite lengths are accepted; anything else is malformed.
 */

export const DerTag = {
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  TeletexString: 0x14,
  Ia5String: 0x16,
  BmpString: 0x1e,
  Sequence: 0x30,
  Set: 0x31,
  ContextConstructed0: 0xa0,
} as const;

export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface DerNode {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

export function readNode(buf: Buffer, offset: number, limit = buf.length): DerNode {
  if (offset + 2 > limit) throw new DerError('truncated header');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let pos = offset + 1;
  const first = buf[pos++];
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    // 0x80 is the BER indefinite form, which DER forbids; 4 bytes is far beyond any CSR.
    if (count === 0 || count > 4) throw new DerError('unsupported length encoding');
    if (pos + count > limit) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++];
  }
  const end = pos + length;
  if (end > limit) throw new DerError('content exceeds its container');
  return { tag, start: offset, contentStart: pos, end };
}

/** Parses a whole buffer as exactly one element. */
export function readRoot(buf: Buffer): DerNode {
  const node = readNode(buf, 0);
  if (node.end !== buf.length) throw new DerError('trailing data after the outer element');
  return node;
}

export function children(buf: Buffer, parent: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    const child = readNode(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) throw new DerError(`expected ${what}`);
  return node;
}

export function content(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.contentStart, node.end);
}

export function raw(buf: Buffer, node: DerNode): Buffer {
  return buf.subarray(node.start, node.end);
}

/** X.690 8.19: first two arcs packed in one sub-identifier, base-128 after that. */
export function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0 || bytes.length > 64) throw new DerError('bad OID length');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new DerError('OID arc too large');
    if ((bytes[i] & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new DerError('truncated OID');
    }
  }
  return arcs.join('.');
}

/**
 * Decodes the directory string types. PrintableString and IA5String are read as Latin-1 so that
 * characters those types forbid (Windows puts `!` and NUL into a PrintableString CN) survive.
 */
export function decodeString(buf: Buffer, node: DerNode): string | undefined {
  const bytes = content(buf, node);
  switch (node.tag) {
    case DerTag.Utf8String:
      return bytes.toString('utf8');
    case DerTag.PrintableString:
    case DerTag.TeletexString:
    case DerTag.Ia5String:
      return bytes.toString('latin1');
    case DerTag.BmpString:
      return bytes.length % 2 === 0 ? Buffer.from(bytes).swap16().toString('utf16le') : undefined;
    default:
      return undefined;
  }
}
