import { XmlElement, XmlParseError, parseXmlSafely, textOf } from '../../common/xml';
import { BST_BASE64_ENCODING, Ns } from './namespaces';

/**
 * Envelope-level reading shared by the three services. Elements are matched by namespace URI and
 * local name, never by prefix: Microsoft's own samples use `o:`, `wsse:` or default namespaces
 * for the same elements (enrollment.md §5.1).
 */

export type SoapRequestErrorReason =
  | 'malformed-xml'
  | 'not-soap-envelope'
  | 'missing-element'
  | 'duplicate-element'
  | 'unexpected-action'
  | 'invalid-value'
  | 'invalid-security';

/** A request we cannot read; the caller answers with an s:MessageFormat fault (§11.1). */
export class SoapRequestError extends Error {
  override readonly name = 'SoapRequestError';
  /** The request's MessageID when it could be read, for the fault's RelatesTo. */
  messageId?: string;
  constructor(
    readonly reason: SoapRequestErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** SOAP requests are ~1-5 KB (§5.5 step 1); the depth of an RST body is 6. */
export const SOAP_XML_LIMITS = { maxBytes: 64 * 1024, maxDepth: 16, maxAttributes: 16 } as const;

type NsList = string | readonly string[];

function inNs(el: XmlElement, ns: NsList): boolean {
  return typeof ns === 'string' ? el.ns === ns : ns.includes(el.ns);
}

export function childrenOf(parent: XmlElement, ns: NsList, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of parent.children) {
    if (typeof c !== 'string' && c.name === local && inNs(c, ns)) out.push(c);
  }
  return out;
}

export function optionalChild(parent: XmlElement, ns: NsList, local: string) {
  const found = childrenOf(parent, ns, local);
  if (found.length > 1) {
    throw new SoapRequestError('duplicate-element', `more than one ${local} in ${parent.name}`);
  }
  return found[0];
}

export function requiredChild(parent: XmlElement, ns: NsList, local: string): XmlElement {
  const found = optionalChild(parent, ns, local);
  if (!found) throw new SoapRequestError('missing-element', `${parent.name} has no ${local}`);
  return found;
}

/** Attribute by namespace URI ('' = unprefixed) and local name. */
export function attributeOf(el: XmlElement, ns: string, local: string): string | undefined {
  for (const key of Object.keys(el.attributes)) {
    const a = el.attributes[key];
    if (a.local === local && a.uri === ns) return a.value;
  }
  return undefined;
}

/** XML Schema Part 1 2.6.2: `xsi:nil="true"` (or "1") marks an element without a value. */
export function isNil(el: XmlElement): boolean {
  const nil = attributeOf(el, Ns.Xsi, 'nil');
  return nil === 'true' || nil === '1';
}

export function trimmedText(el: XmlElement | undefined): string | undefined {
  if (!el || isNil(el)) return undefined;
  return textOf(el).trim();
}

export interface SoapEnvelope {
  header: XmlElement | undefined;
  /** The single element inside s:Body. */
  payload: XmlElement;
}

export function readEnvelope(input: Buffer | string): SoapEnvelope {
  let root: XmlElement;
  try {
    root = parseXmlSafely(input, SOAP_XML_LIMITS);
  } catch (err) {
    if (err instanceof XmlParseError) {
      throw new SoapRequestError('malformed-xml', `${err.reason}: ${err.message}`, { cause: err });
    }
    throw err;
  }
  if (root.name !== 'Envelope' || root.ns !== Ns.Soap12) {
    const what = root.ns === Ns.Soap11 ? 'a SOAP 1.1 envelope' : `<${root.name}>`;
    throw new SoapRequestError('not-soap-envelope', `expected a SOAP 1.2 Envelope, got ${what}`);
  }
  const header = optionalChild(root, Ns.Soap12, 'Header');
  const body = requiredChild(root, Ns.Soap12, 'Body');
  const payloads = body.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (payloads.length !== 1) {
    throw new SoapRequestError('invalid-value', `Body holds ${payloads.length} elements, not 1`);
  }
  return { header, payload: payloads[0] };
}

export interface AddressingHeader {
  action: string;
  /** Verbatim text of a:MessageID: echo it unchanged in a:RelatesTo (enrollment.md §12). */
  messageId: string;
  to?: string;
  replyTo?: string;
}

/** WS-Addressing 1.0 Core 3.2: Action and MessageID (a reply is expected) are required. */
export function readAddressing(header: XmlElement | undefined): AddressingHeader {
  if (!header) throw new SoapRequestError('missing-element', 'Envelope has no Header');
  const messageIdEl = requiredChild(header, Ns.Addressing, 'MessageID');
  const messageId = textOf(messageIdEl);
  if (!messageId.trim()) throw new SoapRequestError('invalid-value', 'MessageID is empty');
  try {
    const action = trimmedText(requiredChild(header, Ns.Addressing, 'Action')) ?? '';
    const replyTo = optionalChild(header, Ns.Addressing, 'ReplyTo');
    return {
      action,
      messageId,
      to: trimmedText(optionalChild(header, Ns.Addressing, 'To')),
      replyTo: replyTo && trimmedText(optionalChild(replyTo, Ns.Addressing, 'Address')),
    };
  } catch (err) {
    if (err instanceof SoapRequestError) err.messageId = messageId;
    throw err;
  }
}

export function expectAction(header: AddressingHeader, expected: string): void {
  if (header.action !== expected) {
    const err = new SoapRequestError(
      'unexpected-action',
      `Action ${header.action} is not ${expected}`,
    );
    err.messageId = header.messageId;
    throw err;
  }
}

/** Runs `read` and stamps any SoapRequestError with the MessageID. */
export function withMessageId<T>(messageId: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof SoapRequestError && err.messageId === undefined) err.messageId = messageId;
    throw err;
  }
}

export interface BinaryToken {
  valueType: string;
  encodingType?: string;
  /** Element text with all whitespace removed (still base64). */
  base64: string;
}

export function readBinaryToken(el: XmlElement): BinaryToken {
  const valueType = attributeOf(el, '', 'ValueType') ?? attributeOf(el, Ns.WssSecext, 'ValueType');
  if (!valueType) {
    throw new SoapRequestError('missing-element', 'BinarySecurityToken has no ValueType');
  }
  const encodingType =
    attributeOf(el, '', 'EncodingType') ?? attributeOf(el, Ns.WssSecext, 'EncodingType');
  if (encodingType !== undefined && encodingType !== BST_BASE64_ENCODING) {
    throw new SoapRequestError('invalid-value', `unsupported EncodingType ${encodingType}`);
  }
  return { valueType, encodingType, base64: textOf(el).replace(/\s+/g, '') };
}
