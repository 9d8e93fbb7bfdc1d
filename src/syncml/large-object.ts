import type { WinCommand } from '../commands/commands.types';
import { measureCommand, type SyncmlBuildableCommand, type SyncmlItem } from './codec';
import { toSyncmlCommand } from './command-encoding';

/*
 * Large objects sent by the server (OMA-DM 1.2 §7, management-session.md §3.8): one command's
 * value split over consecutive messages of a session. Pure: the planner decides where to cut,
 * the session state remembers how far the value went.
 */

/** What OMA-DM's Meta/Size counts: the value's bytes (UTF-8), not its escaped XML. */
export function valueBytes(c: WinCommand): number {
  return Buffer.byteLength(c.config.value ?? '', 'utf8');
}

/** Only a value carried in Data can be split: Add, Replace or Exec with a non-empty value. */
export function isChunkable(c: WinCommand): boolean {
  const { action, value, format } = c.config;
  return (
    (action === 'Add' || action === 'Replace' || action === 'Exec') &&
    !!value &&
    format !== 'node' &&
    format !== 'null'
  );
}

function pieceCommand(
  c: WinCommand,
  data: string,
  first: boolean,
  more: boolean,
): SyncmlBuildableCommand {
  const whole = toSyncmlCommand(c);
  if (!('items' in whole)) return whole;
  const [item] = whole.items;
  // OMA-DM 1.2 §7: every chunk repeats the addressing and Meta; only the first carries Size (the
  // whole value's bytes); every chunk but the last ends its Item with MoreData.
  const piece: SyncmlItem = {
    ...item,
    meta: { ...item.meta, ...(first && { size: String(valueBytes(c)) }) },
    data,
    ...(more && { moreData: true }),
  };
  return { ...whole, items: [piece] };
}

/** The command carrying `value[from, to)`. */
export function chunkCommand(c: WinCommand, from: number, to: number): SyncmlBuildableCommand {
  const value = c.config.value ?? '';
  return pieceCommand(c, value.slice(from, to), from === 0, to < value.length);
}

// The writer escapes & < > CR in text (common/xml/xml-measure.ts): bytes each adds beyond its own.
const ESCAPE_EXTRA: Readonly<Record<number, number>> = { 0x26: 4, 0x3c: 3, 0x3e: 3, 0x0d: 4 };

function escapedCost(cp: number): number {
  const utf8 = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  return utf8 + (ESCAPE_EXTRA[cp] ?? 0);
}

export interface Chunk {
  command: SyncmlBuildableCommand;
  /** measureCommand(command). */
  size: number;
  /** Where the next chunk starts (value.length after the last). */
  end: number;
  last: boolean;
}

/**
 * The longest piece of `c`'s value from `from` whose command fits `room` bytes, or null when not
 * one character fits. Cut on characters (never inside a surrogate pair, so never inside a UTF-8
 * sequence), escaped afterwards (an escape is never split), measured on the escaped bytes.
 */
export function fitChunk(c: WinCommand, from: number, room: number): Chunk | null {
  const value = c.config.value ?? '';
  const rest = chunkCommand(c, from, value.length);
  const restSize = measureCommand(rest);
  if (restSize <= room) return { command: rest, size: restSize, end: value.length, last: true };
  // Everything but the data, for a chunk followed by MoreData: the command around one ASCII byte.
  let left = room - (measureCommand(pieceCommand(c, 'x', from === 0, true)) - 1);
  let end = from;
  while (end < value.length) {
    const cp = value.codePointAt(end)!;
    const cost = escapedCost(cp);
    if (cost > left) break;
    left -= cost;
    end += cp > 0xffff ? 2 : 1;
  }
  if (end === from) return null;
  const command = chunkCommand(c, from, end);
  return { command, size: measureCommand(command), end, last: false };
}
