import { MetaFormat } from '../../src/syncml/codec';
import type { DevInfo, NodeValue } from './types';

const normalize = (v: string | NodeValue): NodeValue => (typeof v === 'string' ? { data: v } : v);
const isUnder = (path: string, root: string): boolean =>
  path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`);

/** What a Get reads: a leaf value or, for an interior node, its child names (OMA-PS). */
export type ReadResult =
  { kind: 'leaf'; value: NodeValue } | { kind: 'interior'; children: string[] };

/**
 * The device's management tree: leaves with values plus interior nodes that exist without one.
 * Paths are compared as written (no percent-decoding): the server addresses nodes exactly as the
 * behaviour declares them.
 */
export class DeviceTree {
  private readonly leaves = new Map<string, NodeValue>();
  private readonly interiors = new Set<string>();

  constructor(values: Record<string, string | NodeValue> = {}, interiors: readonly string[] = []) {
    for (const [path, v] of Object.entries(values)) this.leaves.set(path, normalize(v));
    for (const path of interiors) this.interiors.add(path);
  }

  clone(): DeviceTree {
    const copy = new DeviceTree();
    this.leaves.forEach((v, k) => copy.leaves.set(k, { ...v }));
    this.interiors.forEach((k) => copy.interiors.add(k));
    return copy;
  }

  /** Replaces this tree's content with another's (commit of an Atomic). */
  assign(other: DeviceTree): void {
    this.leaves.clear();
    this.interiors.clear();
    other.leaves.forEach((v, k) => this.leaves.set(k, v));
    other.interiors.forEach((k) => this.interiors.add(k));
  }

  /** A node exists if it is a leaf, a declared interior node, or an ancestor of either. */
  exists(path: string): boolean {
    return this.leaves.has(path) || this.interiors.has(path) || this.childrenOf(path).length > 0;
  }

  read(path: string): ReadResult | undefined {
    const value = this.leaves.get(path);
    if (value) return { kind: 'leaf', value };
    return this.exists(path) ? { kind: 'interior', children: this.childrenOf(path) } : undefined;
  }

  /** Add: `node` format (or no Data) creates an interior node (MS-MDM 2.2.7.1). */
  add(path: string, value: NodeValue | undefined): void {
    if (!value || value.format === MetaFormat.Node) this.interiors.add(path);
    else this.leaves.set(path, value);
  }

  /** Replace writes the value even if the node was never set (Policy CSP behaviour, §2.5). */
  replace(path: string, value: NodeValue): void {
    this.interiors.delete(path);
    this.leaves.set(path, value);
  }

  /** Delete removes the node and its subtree (OMA-PS). */
  delete(path: string): void {
    for (const k of [...this.leaves.keys()]) if (isUnder(k, path)) this.leaves.delete(k);
    for (const k of [...this.interiors]) if (isUnder(k, path)) this.interiors.delete(k);
  }

  private childrenOf(path: string): string[] {
    const prefix = `${path}/`;
    const names = new Set<string>();
    for (const k of [...this.leaves.keys(), ...this.interiors]) {
      if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]);
    }
    return [...names];
  }
}

export { isUnder };

const chr = (data: string): NodeValue => ({ data, format: MetaFormat.Chr, type: 'text/plain' });

/** The ./DevInfo nodes (OMA DM standard object); a device always has them. */
export function devInfoValues(deviceId: string, devInfo: DevInfo): Record<string, NodeValue> {
  return {
    './DevInfo/DevId': chr(deviceId),
    './DevInfo/Man': chr(devInfo.man),
    './DevInfo/Mod': chr(devInfo.mod),
    './DevInfo/DmV': chr(devInfo.dmV),
    './DevInfo/Lang': chr(devInfo.lang),
  };
}

/** Nodes every Windows device answers (DevDetail CSP, DMClient): the default `values`. */
export function windowsDefaultValues(
  deviceId: string,
  devInfo: DevInfo,
): Record<string, NodeValue> {
  return {
    ...devInfoValues(deviceId, devInfo),
    './DevDetail/SwV': chr('10.0.26100.4652'),
    './DevDetail/OEM': chr(devInfo.man),
    './DevDetail/FwV': chr('1.0.0'),
    './DevDetail/HwV': chr('1.0'),
    './DevDetail/DevTyp': chr(devInfo.mod),
    './DevDetail/Ext/Microsoft/OSPlatform': chr('Windows 11 Enterprise'),
    './DevDetail/Ext/Microsoft/DeviceName': chr(`SIM-${deviceId.slice(0, 8)}`),
    './Vendor/MSFT/DMClient/HWDevID': chr(deviceId),
  };
}

/** Used when the behaviour names no read-only paths: both subtrees are read-only on Windows. */
export const DEFAULT_READ_ONLY_PATHS: readonly string[] = ['./DevInfo', './DevDetail'];
