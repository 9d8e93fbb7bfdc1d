import { writeXml, type XmlChild, type XmlElement, type XmlNode } from '../../common/xml';

/*
 * MS-MDM 2.2.5.1: Data may hold markup instead of escaped text, and that markup "must declare its
 * own namespaces". Such Data is returned as XML text, re-serialized by the one writer: the same
 * elements, attributes and text, though not byte-identical to what the device sent (attribute
 * quoting and empty-element forms may differ). A prefix the markup borrowed from an ancestor is
 * declared on the element that uses it, so the text stands on its own.
 */
export function markupOf(data: XmlElement): string {
  const wrapper: XmlNode = {
    name: 'Data',
    children: data.children.map((c) => toNode(c, new Set())),
  };
  const xml = writeXml(wrapper, { headless: true });
  return xml.slice('<Data>'.length, xml.length - '</Data>'.length);
}

function toNode(node: XmlElement | string, declared: ReadonlySet<string>): XmlChild {
  if (typeof node === 'string') return node;
  const attrs: Record<string, string> = {};
  const inScope = new Set(declared);
  for (const qname of Object.keys(node.attributes)) {
    const a = node.attributes[qname];
    attrs[qname] = a.value;
    if (qname.startsWith('xmlns:')) inScope.add(a.local);
  }
  const declare = (prefix: string | undefined, uri: string): void => {
    if (!prefix || prefix === 'xml' || prefix === 'xmlns' || inScope.has(prefix)) return;
    attrs[`xmlns:${prefix}`] = uri;
    inScope.add(prefix);
  };
  declare(node.prefix, node.ns);
  for (const a of Object.values(node.attributes)) declare(a.prefix, a.uri);
  return {
    name: node.prefix ? `${node.prefix}:${node.name}` : node.name,
    attrs,
    children: node.children.map((c) => toNode(c, inScope)),
  };
}
