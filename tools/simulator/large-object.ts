import { MetaFormat, type SyncmlItem, type SyncmlMeta } from '../../src/syncml/codec';
import type { NodeValue } from './types';

export type Assembled = NodeValue | undefined | 'partial' | 'mismatch';

/**
 * Reassembles large objects the server splits over messages (OMA-DM §7, management-session.md
 * §3.8): a chunk with MoreData is buffered (the device answers 213); the last chunk completes the
 * value, checked against the first chunk's Meta/Size (mismatch → 424, nothing committed).
 */
export class LargeObjectBuffer {
  private chunk: { target: string; data: string; size?: string } | undefined;

  /** Forgets a partly received object (it was refused). */
  drop(): void {
    this.chunk = undefined;
  }

  /** The value an Add/Replace item carries; `undefined` = no value (interior node). */
  take(item: SyncmlItem, meta: SyncmlMeta): Assembled {
    const target = item.target ?? '';
    // Meta/Size marks a first chunk (OMA-DM 1.2 §7): a new object, even for the same node (a
    // redelivery after a session that ended mid-object), drops what was buffered.
    const pending =
      this.chunk?.target === target && meta.size === undefined ? this.chunk : undefined;
    this.chunk = undefined;
    const data = pending ? pending.data + (item.data ?? '') : item.data;
    const size = pending ? pending.size : meta.size;
    if (item.moreData) {
      this.chunk = { target, data: data ?? '', ...(size !== undefined && { size }) };
      return 'partial';
    }
    if (size !== undefined && Buffer.byteLength(data ?? '') !== Number(size)) return 'mismatch';
    if (data === undefined && (meta.format === undefined || meta.format === MetaFormat.Node)) {
      return undefined;
    }
    return {
      data: data ?? '',
      format: meta.format ?? MetaFormat.Chr,
      ...(meta.type !== undefined && { type: meta.type }),
    };
  }
}
