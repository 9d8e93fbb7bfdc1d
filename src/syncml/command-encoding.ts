import type { WinCommand } from '../commands/commands.types';
import type { SyncmlBuildableCommand, SyncmlItem, SyncmlMeta } from './codec';

// management-session.md §5.1: Windows CSPs check Format, so it is always sent; Type text/plain
// for textual values. `bin` cannot travel in XML: its (base64) value goes as b64.
function metaFor(format: string): SyncmlMeta {
  if (format === 'node' || format === 'null') return { format };
  if (format === 'b64' || format === 'bin') return { format: 'b64' };
  return { format, type: 'text/plain' };
}

/** A queued command as the SyncML element the device receives; its CmdID is our cmdId. */
export function toSyncmlCommand(c: WinCommand): SyncmlBuildableCommand {
  const { path, action, value, format } = c.config;
  const cmdId = c.cmdId;
  switch (action) {
    case 'Get':
    case 'Delete':
      // §5.2: Target only, no Meta, no Data.
      return { kind: action, cmdId, items: [{ target: path }] };
    case 'Copy':
      // SyncML Copy: Source = the node copied from (the command's value).
      return { kind: 'Copy', cmdId, items: [{ target: path, source: value }] };
    case 'Exec': {
      const item: SyncmlItem = { target: path };
      if (value !== undefined) {
        item.meta = metaFor(format);
        item.data = value;
      }
      return { kind: 'Exec', cmdId, items: [item] };
    }
    case 'Add':
    case 'Replace': {
      const item: SyncmlItem = { target: path, meta: metaFor(format) };
      // MS-MDM 2.2.7.1: Format node and no Data creates an interior node.
      if (format !== 'node' && format !== 'null') item.data = value ?? '';
      return { kind: action, cmdId, items: [item] };
    }
  }
}
