import { XmlElement, XmlParseError, parseXmlSafely } from '../common/xml';

/**
 * Whether the value a device answered to a Get is the desired one, compared as its OMA-DM format
 * says (MS-MDM 2.2.7.1 Meta/Format): Windows echoes `true` for a `bool` written as `1`, drops a
 * leading zero of an `int`, and reorders or reindents an `xml` value; none of that is drift.
 */
export function sameValue(format: string, desired: string, device: string): boolean {
  switch (format) {
    case 'int':
      return sameNumber(desired, device, INT);
    case 'float':
      return sameNumber(desired, device, FLOAT);
    case 'bool':
      return sameBool(desired, device);
    case 'xml':
      return sameXml(desired, device);
    case 'b64':
    case 'bin':
      return sameBase64(desired, device);
    case 'node':
    case 'null':
      // No value to compare: the node exists, which the 200 already says.
      return true;
    default:
      // chr, date, time: exact strings.
      return desired === device;
  }
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function sameNumber(a: string, b: string, shape: RegExp): boolean {
  const x = a.trim();
  const y = b.trim();
  if (!shape.test(x) || !shape.test(y)) return a === b;
  // BigInt keeps 64-bit values (QWORD policies) exact, where Number would round them.
  if (shape === INT) return BigInt(x) === BigInt(y);
  return Number(x) === Number(y);
}

function boolOf(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  return undefined;
}

function sameBool(a: string, b: string): boolean {
  const x = boolOf(a);
  const y = boolOf(b);
  return x === undefined || y === undefined ? a === b : x === y;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function sameBase64(a: string, b: string): boolean {
  const x = a.replace(/\s+/g, '');
  const y = b.replace(/\s+/g, '');
  if (!BASE64.test(x) || !BASE64.test(y)) return a === b;
  return Buffer.from(x, 'base64').equals(Buffer.from(y, 'base64'));
}

function sameXml(a: string, b: string): boolean {
  const x = canonicalXml(a);
  const y = canonicalXml(b);
  return x === undefined || y === undefined ? a === b : x === y;
}

/**
 * A canonical form of an XML value or fragment (Policy CSP ADMX values are fragments such as
 * `<enabled/><data id="x" value="1"/>`): parsed with the codec's safe parser (no DTD, no
 * entities, bounded), then written with attributes sorted, namespaces resolved to their URIs and
 * whitespace-only text between elements dropped. undefined when the value is not XML.
 */
export function canonicalXml(value: string): string | undefined {
  let root: XmlElement;
  try {
    // The XML declaration may only start a document: strip it before wrapping the fragment.
    const body = value.replace(/^\s*<\?xml[^?]*\?>/, '');
    root = parseXmlSafely(`<fragment>${body}</fragment>`, { maxBytes: 1024 * 1024 });
  } catch (e) {
    if (e instanceof XmlParseError) return undefined;
    throw e;
  }
  return canonicalChildren(root);
}

/** Adjacent text and CDATA sections are one text: `a<![CDATA[b]]>` equals `ab`. */
function canonicalChildren(el: XmlElement): string {
  const merged: (XmlElement | string)[] = [];
  for (const c of el.children) {
    const last = merged[merged.length - 1];
    if (typeof c === 'string' && typeof last === 'string') merged[merged.length - 1] = last + c;
    else merged.push(c);
  }
  return merged.map(canonicalNode).join('');
}

function canonicalNode(node: XmlElement | string): string {
  if (typeof node === 'string') return node.trim() === '' ? '' : JSON.stringify(node);
  const attrs = Object.values(node.attributes)
    // Namespace declarations are carried by the resolved names themselves.
    .filter((a) => a.prefix !== 'xmlns' && !(a.prefix === '' && a.local === 'xmlns'))
    .map((a) => `${a.uri}|${a.local}=${JSON.stringify(a.value)}`)
    .sort();
  return `<{${node.ns}}${node.name} ${attrs.join(' ')}>${canonicalChildren(node)}</>`;
}
