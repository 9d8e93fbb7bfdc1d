/** Attributes of an element to write, by qualified name; `xmlns` / `xmlns:p` declare namespaces. */
export type XmlAttrs = Readonly<Record<string, string>>;

/** An element to write. Strings in `children` are text; empty strings are skipped. */
export interface XmlNode {
  /** Qualified name: `SyncML`, `s:Envelope`. A prefix must be declared on it or an ancestor. */
  readonly name: string;
  readonly attrs?: XmlAttrs;
  readonly children?: readonly XmlChild[];
}

export type XmlChild = XmlNode | string;

const ATTRS = Symbol('xml-attrs');

interface AttrsMarker {
  readonly [ATTRS]: XmlAttrs;
}

/** Anything `el()` accepts after the name; null, undefined and false are skipped. */
export type XmlContent = XmlChild | AttrsMarker | readonly XmlContent[] | null | undefined | false;

/** Marks an attribute record for `el()`: `el('a:Action', attrs({ 's:mustUnderstand': '1' }), uri)`. */
export function attrs(record: XmlAttrs): AttrsMarker {
  return { [ATTRS]: record };
}

/** Builds an XmlNode: `el('Item', el('Target', el('LocURI', uri)), format && meta(format))`. */
export function el(name: string, ...content: XmlContent[]): XmlNode {
  const children: XmlChild[] = [];
  let attributes: Record<string, string> | undefined;
  const add = (c: XmlContent): void => {
    if (c === null || c === undefined || c === false || c === '') return;
    if (typeof c === 'string') children.push(c);
    else if (Array.isArray(c)) for (const x of c as readonly XmlContent[]) add(x);
    else if (ATTRS in c) attributes = { ...attributes, ...(c as AttrsMarker)[ATTRS] };
    else children.push(c as XmlNode);
  };
  for (const c of content) add(c);
  return attributes ? { name, attrs: attributes, children } : { name, children };
}
