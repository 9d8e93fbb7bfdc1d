import { SaxesParser, type SaxesTagNS } from 'saxes';
import { hasIllegalXmlChar } from './xml-chars';
import type { XmlAttribute, XmlElement } from './xml-tree';

export type XmlParseErrorReason =
  | 'too-large'
  | 'invalid-utf8'
  | 'forbidden-markup'
  | 'illegal-char'
  | 'too-deep'
  | 'too-many-attributes'
  | 'malformed'
  | 'unsupported-xml-version';

export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
  constructor(
    readonly reason: XmlParseErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface SafeXmlLimits {
  /** Largest accepted body in UTF-8 bytes. */
  maxBytes?: number;
  /** Deepest accepted element nesting (the root is depth 1). */
  maxDepth?: number;
  /** Most attributes (namespace declarations included) on one element. */
  maxAttributes?: number;
}

export const SAFE_XML_DEFAULTS: Readonly<Required<SafeXmlLimits>> = {
  maxBytes: 1024 * 1024,
  // research/xml-parsers.md rule 5: real SyncML stays under 12 levels; saxes' namespace lookup is
  // quadratic in depth, so the cap is also what keeps hostile nesting cheap.
  maxDepth: 32,
  maxAttributes: 16,
};

const FORBIDDEN_MARKUP = /<!DOCTYPE|<!ENTITY/i;
const UTF8 = /^utf-?8$/i;

interface MutableElement extends XmlElement {
  readonly children: (XmlElement | string)[];
}

/**
 * Parses untrusted XML into a tree, following research/xml-parsers.md "Rules for the codec" 1–6:
 * size cap, fatal UTF-8 decoding, DOCTYPE/ENTITY and illegal-character refusal before parsing,
 * then saxes (xmlns) with depth and attribute caps. Every refusal is an XmlParseError.
 */
export function parseXmlSafely(input: Buffer | string, opts: SafeXmlLimits = {}): XmlElement {
  const limits = { ...SAFE_XML_DEFAULTS, ...opts };
  const xml = decode(input, limits.maxBytes);
  // Rule 3: no DTD means no entity expansion (XXE, billion laughs), whatever the parser would do.
  if (FORBIDDEN_MARKUP.test(xml)) {
    throw new XmlParseError('forbidden-markup', 'DOCTYPE and ENTITY declarations are refused');
  }
  if (hasIllegalXmlChar(xml)) {
    throw new XmlParseError('illegal-char', 'character outside the XML 1.0 Char production');
  }
  return runSaxes(xml, limits);
}

function decode(input: Buffer | string, maxBytes: number): string {
  const bytes = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (bytes > maxBytes) {
    throw new XmlParseError('too-large', `body of ${bytes} bytes exceeds ${maxBytes}`);
  }
  if (typeof input === 'string') return input;
  try {
    // Rule 2: Buffer#toString() would silently turn invalid bytes into U+FFFD.
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new XmlParseError('invalid-utf8', 'body is not valid UTF-8');
  }
}

function runSaxes(xml: string, limits: Required<SafeXmlLimits>): XmlElement {
  // Rule 4: exactly these options; no `error` handler, so saxes throws instead of recovering.
  const parser = new SaxesParser({ xmlns: true, position: true });
  const doc: MutableElement = { name: '#document', ns: '', attributes: {}, children: [] };
  const stack: MutableElement[] = [doc];
  let attributeCount = 0;

  parser.on('xmldecl', (decl) => {
    if (decl.version !== '1.0' || (decl.encoding !== undefined && !UTF8.test(decl.encoding))) {
      throw new XmlParseError('unsupported-xml-version', 'only XML 1.0 in UTF-8 is accepted');
    }
  });
  parser.on('doctype', () => {
    throw new XmlParseError('forbidden-markup', 'DOCTYPE is refused');
  });
  // management-session.md §6: no processing instruction other than the XML declaration.
  parser.on('processinginstruction', () => {
    throw new XmlParseError('forbidden-markup', 'processing instructions are refused');
  });
  // Rule 5: both run before saxes resolves the element's namespaces.
  parser.on('opentagstart', () => {
    if (stack.length > limits.maxDepth) {
      throw new XmlParseError('too-deep', `nesting deeper than ${limits.maxDepth}`);
    }
    attributeCount = 0;
  });
  parser.on('attribute', () => {
    if (++attributeCount > limits.maxAttributes) {
      throw new XmlParseError(
        'too-many-attributes',
        `more than ${limits.maxAttributes} attributes`,
      );
    }
  });
  parser.on('opentag', (tag) => {
    const el = toElement(tag as SaxesTagNS);
    stack[stack.length - 1].children.push(el);
    stack.push(el);
  });
  parser.on('text', (text) => {
    stack[stack.length - 1].children.push(text);
  });
  parser.on('cdata', (text) => {
    stack[stack.length - 1].children.push(text);
  });
  parser.on('closetag', () => {
    stack.pop();
  });

  try {
    // Rule 6: close() is what rejects truncated input.
    parser.write(xml).close();
  } catch (err) {
    if (err instanceof XmlParseError) throw err;
    throw new XmlParseError('malformed', err instanceof Error ? err.message : String(err));
  }
  const root = doc.children.find((c): c is XmlElement => typeof c !== 'string');
  if (!root) throw new XmlParseError('malformed', 'no root element');
  return root;
}

function toElement(tag: SaxesTagNS): MutableElement {
  const attributes = Object.create(null) as Record<string, XmlAttribute>;
  for (const name of Object.keys(tag.attributes)) {
    const a = tag.attributes[name];
    attributes[name] = { value: a.value, uri: a.uri, local: a.local, prefix: a.prefix };
  }
  const el: MutableElement = { name: tag.local, ns: tag.uri, attributes, children: [] };
  return tag.prefix ? { ...el, prefix: tag.prefix } : el;
}
