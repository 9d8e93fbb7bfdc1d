import type { SyncmlCommand, SyncmlMessage } from '../../../src/syncml/codec';
import { serverAnswer, type FakeScript } from './fake-server';

// Server commands as management-session.md §5.2 shows them on the wire.
export const replaceCmd = (
  cmdId: string,
  target: string,
  data: string,
  format = 'int',
): SyncmlCommand => ({
  kind: 'Replace',
  cmdId,
  items: [{ target, meta: { format, type: 'text/plain' }, data }],
});
export const getCmd = (cmdId: string, ...targets: string[]): SyncmlCommand => ({
  kind: 'Get',
  cmdId,
  items: targets.map((target) => ({ target })),
});
export const addNodeCmd = (cmdId: string, target: string): SyncmlCommand => ({
  kind: 'Add',
  cmdId,
  items: [{ target, meta: { format: 'node' } }],
});
export const addCmd = (
  cmdId: string,
  target: string,
  data: string,
  format = 'chr',
): SyncmlCommand => ({
  kind: 'Add',
  cmdId,
  items: [{ target, meta: { format }, data }],
});
export const deleteCmd = (cmdId: string, target: string): SyncmlCommand => ({
  kind: 'Delete',
  cmdId,
  items: [{ target }],
});
export const execCmd = (cmdId: string, target: string, data?: string): SyncmlCommand => ({
  kind: 'Exec',
  cmdId,
  items: [{ target, ...(data !== undefined && { data, meta: { format: 'chr' } }) }],
});
export const alertCmd = (cmdId: string, code: string): SyncmlCommand => ({
  kind: 'Alert',
  cmdId,
  data: code,
  items: [],
});

/**
 * A correct server for one session per device MsgID: server message n answers device message n
 * with `packages[n-1]` (Final unless listed in `openPackages`), then a closing message.
 */
export function scripted(packages: SyncmlCommand[][], openPackages: number[] = []): FakeScript {
  return (req) => {
    const msg = req.message as SyncmlMessage;
    const n = Number(msg.header.msgId);
    return { body: serverAnswer(msg, n, packages[n - 1] ?? [], !openPackages.includes(n)) };
  };
}
