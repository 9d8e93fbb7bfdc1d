import type { XmlNode } from './xml-node';
import { EMPTY_SCOPE, enterScope, type XmlScope } from './xml-scope';
import { XML_DECLARATION, type XmlWriteOptions } from './xml-writer';

/*
 * Byte length of what writeXml() produces, computed without serializing, so a caller can budget a
 * message (management-session.md §3.8, MaxMsgSize) cheaply. It mirrors writeXml's output exactly:
 * text escapes & < > CR; attribute values also " TAB LF; childless elements self-close. The
 * spec file checks it against Buffer.byteLength(writeXml(...)) on awkward values.
 */

const TEXT_EXTRA: Readonly<Record<string, number>> = { '&': 4, '<': 3, '>': 3, '\r': 4 };
const ATTR_EXTRA: Readonly<Record<string, number>> = {
  ...TEXT_EXTRA,
  '"': 5,
  '\t': 3,
  '\n': 4,
};
const TEXT_SPECIAL = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<>\r"\t\n]/g;

function escapedBytes(value: string, special: RegExp, extra: Readonly<Record<string, number>>) {
  let n = Buffer.byteLength(value, 'utf8');
  const hits = value.match(special);
  if (hits) for (const c of hits) n += extra[c];
  return n;
}

/** Bytes of one element as writeXml writes it inside `scope` (the enclosing declarations). */
export function measureNode(node: XmlNode, scope: XmlScope = EMPTY_SCOPE): number {
  const nameBytes = Buffer.byteLength(node.name, 'utf8');
  let n = 1 + nameBytes; // <name
  const a = node.attrs;
  const inner = enterScope(node, scope);
  if (a) {
    for (const k of Object.keys(a)) {
      if (inner.redundant?.has(k)) continue;
      n += 4 + Buffer.byteLength(k, 'utf8') + escapedBytes(a[k], ATTR_SPECIAL, ATTR_EXTRA); // ␠k=""
    }
  }
  let content = 0;
  let hasContent = false;
  for (const c of node.children ?? []) {
    if (typeof c === 'string') {
      if (c === '') continue;
      content += escapedBytes(c, TEXT_SPECIAL, TEXT_EXTRA);
    } else {
      content += measureNode(c, inner.scope);
    }
    hasContent = true;
  }
  // <name/>  or  <name>…</name>
  return hasContent ? n + 1 + content + 3 + nameBytes : n + 2;
}

export function measureXml(root: XmlNode, opts: XmlWriteOptions = {}): number {
  return (opts.headless ? 0 : XML_DECLARATION.length) + measureNode(root);
}
