export interface XmlAttribute {
  readonly value: string;
  /** Namespace URI ('' when unprefixed: XML Namespaces §6.3, unprefixed attributes have none). */
  readonly uri: string;
  readonly local: string;
  readonly prefix: string;
}

/** A parsed element. Strings in `children` are character data (text and CDATA, decoded). */
export interface XmlElement {
  /** Local name. */
  readonly name: string;
  /** Namespace URI ('' when none). */
  readonly ns: string;
  readonly prefix?: string;
  /** Keyed by qualified name; a null-prototype object, so `__proto__` is just a key. */
  readonly attributes: Readonly<Record<string, XmlAttribute>>;
  readonly children: (XmlElement | string)[];
}

export function isElement(node: XmlElement | string): node is XmlElement {
  return typeof node !== 'string';
}

export function childElements(el: XmlElement): XmlElement[] {
  return el.children.filter(isElement);
}

export function firstChild(el: XmlElement, localName: string): XmlElement | undefined {
  for (const c of el.children) if (typeof c !== 'string' && c.name === localName) return c;
  return undefined;
}

/** Text and CDATA children concatenated verbatim: no trimming, no whitespace normalisation. */
export function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) if (typeof c === 'string') s += c;
  return s;
}

export function attributeValue(el: XmlElement, qualifiedName: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(el.attributes, qualifiedName)
    ? el.attributes[qualifiedName].value
    : undefined;
}
