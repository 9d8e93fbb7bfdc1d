import type { XmlNode } from './xml-node';

/** In-scope namespace declarations: prefix ('' = default) → URI. */
export type XmlScope = ReadonlyMap<string, string>;

export const EMPTY_SCOPE: XmlScope = new Map();

export interface EnteredScope {
  readonly scope: XmlScope;
  /** Declarations on the node that repeat the enclosing scope: not written. */
  readonly redundant?: ReadonlySet<string>;
}

export function isDeclaration(attrName: string): boolean {
  return attrName === 'xmlns' || attrName.startsWith('xmlns:');
}

/**
 * The scope inside `node`. A declaration that repeats its enclosing binding is reported as
 * redundant: xmlbuilder2's serializer drops those, so the writer and measureXml skip them too.
 */
export function enterScope(node: XmlNode, parent: XmlScope): EnteredScope {
  const attrs = node.attrs;
  if (!attrs) return { scope: parent };
  let scope: Map<string, string> | undefined;
  let redundant: Set<string> | undefined;
  for (const name of Object.keys(attrs)) {
    if (!isDeclaration(name)) continue;
    const prefix = name === 'xmlns' ? '' : name.slice(6);
    if ((parent.get(prefix) ?? '') === attrs[name]) {
      (redundant ??= new Set()).add(name);
      continue;
    }
    (scope ??= new Map(parent)).set(prefix, attrs[name]);
  }
  return { scope: scope ?? parent, redundant };
}
