import type { WinCommand } from '../commands/commands.types';
import { measureCommand, type SyncmlAtomicCommand, type SyncmlBuildableCommand } from './codec';
import { toSyncmlCommand } from './command-encoding';
import { fitChunk, isChunkable, valueBytes, type Chunk } from './large-object';
import type { Choice, DeliveryBudget } from './session-planner';
import { syncHdrStatus, type SyncmlSessionState } from './session-state';

/*
 * Delivery beyond one command per element (management-session.md §3.8, §3.9), pure: an atomic
 * batch goes as one SyncML Atomic, and a value no message can carry goes as a large object over
 * several messages. Without atomic batches or oversized values, chooseDelivery chooses exactly
 * what chooseCommands does.
 */

/** A first chunk needs at least this much room beside other commands, or it starts next message. */
export const MIN_CHUNK_ROOM = 1024;

export interface DeliveryChoice extends Choice {
  /** An atomic batch that did not fit: all of its commands, the head first. */
  blocked?: Choice['blocked'] & { group?: WinCommand[] };
  /** The last taken command goes as the first chunk of a large object. */
  started?: { command: WinCommand; chunk: Chunk };
  /**
   * The next candidate is a large object that could not start in the room this message has left:
   * it starts in the next one (with nothing else sent, a keep-alive asks for it).
   */
  wait?: boolean;
}

/** What the answer carries besides whole commands. */
export interface LargeDelivery {
  /** The next chunk of the object this session is sending: first after the server's own. */
  continued?: SyncmlBuildableCommand;
  /** The first chunk of an object starting in this message (its command is among the sent). */
  started?: { cmdId: string; command: SyncmlBuildableCommand };
  /** A chunk that is not the last is in this message: no Final (OMA-DM 1.2 §7). */
  open?: boolean;
}

/** The Atomic's CmdID: unique in the message (ours are `<batchId>-<position>`, §7 of decisions). */
export function atomicCmdId(batchId: string): string {
  return `${batchId}-atomic`;
}

/** MS-MDM 2.2.7.3: the batch's commands in queue order inside one Atomic. */
export function atomicCommand(group: WinCommand[]): SyncmlAtomicCommand {
  return {
    kind: 'Atomic',
    cmdId: atomicCmdId(group[0].batchId),
    commands: group.map(toSyncmlCommand),
  };
}

/** The atomic commands of `c`'s batch that follow each other from index `i`. */
function atomicRun(candidates: WinCommand[], i: number): WinCommand[] {
  const batchId = candidates[i].batchId;
  let j = i;
  while (j < candidates.length && candidates[j].atomic && candidates[j].batchId === batchId) j++;
  return candidates.slice(i, j);
}

/**
 * FIFO within MaxMsgSize and the cap, like chooseCommands, where an atomic batch is one unit and a
 * command that no message could carry starts as a large object instead of blocking the queue.
 */
export function chooseDelivery(
  budget: DeliveryBudget,
  candidates: WinCommand[],
  session: Pick<SyncmlSessionState, 'maxObjSize'>,
): DeliveryChoice {
  const capped = candidates.slice(0, budget.maxCommands);
  // The fetch stopped at the cap: a batch reaching the end of it may continue beyond.
  const truncated = candidates.length >= budget.maxCommands;
  let bytes = budget.used;
  const take: WinCommand[] = [];
  for (let i = 0; i < capped.length;) {
    const command = capped[i];
    const group = command.atomic ? atomicRun(capped, i) : undefined;
    if (group && truncated && i + group.length === capped.length && take.length) {
      return { take, considered: take.length + 1, blocked: { command, size: 0, group } };
    }
    const size = measureCommand(group ? atomicCommand(group) : toSyncmlCommand(command));
    if (bytes + size > budget.limit) {
      const considered = take.length + 1;
      if (group) return { take, considered, blocked: { command, size, group } };
      const large = startLarge(budget, command, size, bytes, take.length > 0, session);
      // Not blocked: afterTake would fail it as too long for any message.
      if (large === 'wait') return { take, considered, wait: true };
      if (large) {
        // Whatever follows was weighed and did not go: the queue is not drained.
        const after = i + 1 < capped.length ? 1 : 0;
        return {
          take: [...take, command],
          considered: considered + after,
          started: { command, chunk: large },
        };
      }
      return { take, considered, blocked: { command, size } };
    }
    bytes += size;
    take.push(...(group ?? [command]));
    i += group ? group.length : 1;
  }
  return { take, considered: take.length };
}

/**
 * A command goes as a large object only when it cannot fit any message whole (a last resort:
 * management-session.md §3.8), its value can be split and it stays within the device's
 * MaxObjSize. Its first chunk fills this message, unless other commands leave it too little room.
 */
function startLarge(
  budget: DeliveryBudget,
  command: WinCommand,
  size: number,
  used: number,
  others: boolean,
  session: Pick<SyncmlSessionState, 'maxObjSize'>,
): Chunk | 'wait' | null {
  const alone = budget.envelope + measureCommand(syncHdrStatus('1')) + size;
  if (alone <= budget.limit || !isChunkable(command)) return null;
  if (session.maxObjSize !== undefined && valueBytes(command) > session.maxObjSize) return null;
  const room = budget.limit - used;
  if (others && room < MIN_CHUNK_ROOM) return 'wait';
  return fitChunk(command, 0, room) ?? 'wait';
}

/** The chosen large object was taken: the session remembers how far its value went. */
export function beginLarge(
  session: SyncmlSessionState,
  started: NonNullable<DeliveryChoice['started']>,
): LargeDelivery {
  session.chunk = { cmdId: started.command.cmdId, offset: started.chunk.end };
  return {
    started: { cmdId: started.command.cmdId, command: started.chunk.command },
    open: true,
  };
}

export interface Continuation {
  large: LargeDelivery;
  /** The budget left for queued commands after the last chunk; none while the object continues. */
  budget?: DeliveryBudget;
}

/**
 * The next chunk of the object under way, first in the message (no other command between chunks,
 * OMA-DM 1.2 §7). `command`: the object's command, null when it no longer awaits this session
 * (cancelled, requeued). A final Status already received for it (an error instead of 213) ends
 * the object as well.
 */
export function continueLarge(
  session: SyncmlSessionState,
  budget: DeliveryBudget,
  command: WinCommand | null,
): Continuation | null {
  const progress = session.chunk;
  if (!progress) return null;
  if (!command || command.cmdId !== progress.cmdId || !session.awaiting?.[progress.cmdId]) {
    delete session.chunk;
    return null;
  }
  const chunk = fitChunk(command, progress.offset, budget.limit - budget.used);
  // The Statuses left no room: an open message with nothing in it asks for the next one.
  if (!chunk) return { large: { open: true } };
  if (!chunk.last) {
    progress.offset = chunk.end;
    return { large: { continued: chunk.command, open: true } };
  }
  delete session.chunk;
  return {
    large: { continued: chunk.command },
    budget: { ...budget, used: budget.used + chunk.size },
  };
}

/** The sent commands as the answer carries them: atomic batches wrapped, a first chunk in place. */
export function renderDelivered(
  sent: WinCommand[],
  large: LargeDelivery | undefined,
): SyncmlBuildableCommand[] {
  const out: SyncmlBuildableCommand[] = large?.continued ? [large.continued] : [];
  for (let i = 0; i < sent.length;) {
    const c = sent[i];
    if (c.atomic) {
      const group = atomicRun(sent, i);
      out.push(atomicCommand(group));
      i += group.length;
      continue;
    }
    out.push(large?.started?.cmdId === c.cmdId ? large.started.command : toSyncmlCommand(c));
    i++;
  }
  return out;
}
