import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces';
import { hasIllegalXmlChar } from './xml-chars';
import type { XmlChild, XmlNode } from './xml-node';
import { parseXmlSafely } from './safe-xml';
import { EMPTY_SCOPE, enterScope, isDeclaration, type XmlScope } from './xml-scope';
import { firstChild, textOf } from './xml-tree';

export type XmlWriteErrorReason =
  'illegal-char' | 'unbound-prefix' | 'invalid-name' | 'unsupported';

export class XmlWriteError extends Error {
  override readonly name = 'XmlWriteError';
  constructor(
    readonly reason: XmlWriteErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface XmlWriteOptions {
  /** Omit the `<?xml version="1.0" encoding="UTF-8"?>` declaration. */
  headless?: boolean;
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/*
 * xmlbuilder2 4.0.3 (oozcitak/xmlbuilder2#117) escapes `&` in text and attribute values only when
 * it is NOT followed by /[A-Za-z]+;|#\d+;/ (its `nonEntityAmpersandRegex`), so `R&amp;D` is written
 * as-is and read back as `R&D`. We escape exactly the ampersands it skips; its own pass then
 * escapes the rest, so every `&` of the value leaves as `&amp;` (neither lookahead pattern
 * contains `&`, so our insertions never change which ampersands it skips). The same pass-through
 * lets us write CR (and TAB/LF in attributes) as character references, which XML 1.0 §2.11 and
 * §3.3.3 would otherwise normalise away. A probe at load time proves the behaviour by round trip.
 */
const ENTITY_LIKE_AMP = /&(?=[A-Za-z]+;|#\d+;)/g;

function textForBuilder(value: string): string {
  checkChars(value);
  let v = value.replace(ENTITY_LIKE_AMP, '&amp;');
  if (v.includes('\r')) v = v.replace(/\r/g, '&#13;');
  return v;
}

function attrForBuilder(value: string): string {
  return textForBuilder(value).replace(/[\t\n]/g, (c) => (c === '\t' ? '&#9;' : '&#10;'));
}

function checkChars(value: string): void {
  if (hasIllegalXmlChar(value)) {
    throw new XmlWriteError('illegal-char', 'value contains a character XML 1.0 forbids');
  }
}

function prefixOf(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? '' : qname.slice(0, i);
}

function resolve(scope: XmlScope, prefix: string, qname: string): string | null {
  if (prefix === 'xml') return XML_NS;
  const uri = scope.get(prefix);
  if (uri === undefined && prefix !== '') {
    throw new XmlWriteError('unbound-prefix', `prefix of ${qname} is not declared`);
  }
  return uri ? uri : null;
}

function writeNode(parent: XMLBuilder, node: XmlNode, parentScope: XmlScope): void {
  const { scope, redundant } = enterScope(node, parentScope);
  // xmlbuilder2 would repeat xmlns="" on every descendant; SyncML and SOAP never need it.
  if (node.attrs?.xmlns === '' && !redundant?.has('xmlns')) {
    throw new XmlWriteError('unsupported', 'undeclaring the default namespace is not supported');
  }
  let e: XMLBuilder;
  try {
    e = parent.ele(resolve(scope, prefixOf(node.name), node.name), node.name);
  } catch (err) {
    if (err instanceof XmlWriteError) throw err;
    throw new XmlWriteError('invalid-name', `invalid element name ${JSON.stringify(node.name)}`);
  }
  for (const name of Object.keys(node.attrs ?? {})) {
    if (redundant?.has(name)) continue;
    const value = attrForBuilder(node.attrs![name]);
    const prefix = prefixOf(name);
    // XML Namespaces §6.3: an unprefixed attribute is in no namespace.
    const ns = isDeclaration(name) ? XMLNS_NS : prefix ? resolve(scope, prefix, name) : null;
    try {
      e.att(ns, name, value);
    } catch {
      throw new XmlWriteError('invalid-name', `invalid attribute name ${JSON.stringify(name)}`);
    }
  }
  for (const child of node.children ?? []) writeChild(e, child, scope);
}

function writeChild(parent: XMLBuilder, child: XmlChild, scope: XmlScope): void {
  if (typeof child !== 'string') writeNode(parent, child, scope);
  else if (child !== '') parent.txt(textForBuilder(child));
}

/** The one XML serializer: every document the server sends (SyncML, SOAP) goes through here. */
export function writeXml(root: XmlNode, opts: XmlWriteOptions = {}): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  writeNode(doc, root, EMPTY_SCOPE);
  return doc.end({ headless: opts.headless === true, prettyPrint: false });
}

export const XML_DECLARATION = DECLARATION;

function proveEscaping(): void {
  const probe = 'R&amp;D &lt;x&gt; &#65; &#x41; &foo; & < > " \' ]]> \r\n\t é 😀';
  const out = writeXml({
    name: 'p',
    attrs: { a: probe },
    children: [{ name: 'q', children: [probe] }],
  });
  const tree = parseXmlSafely(out);
  const q = firstChild(tree, 'q');
  if (
    !out.startsWith(DECLARATION) ||
    tree.attributes.a?.value !== probe ||
    !q ||
    textOf(q) !== probe
  ) {
    throw new Error('xmlbuilder2 escaping changed: revisit src/common/xml/xml-writer.ts (#117)');
  }
}

proveEscaping();
