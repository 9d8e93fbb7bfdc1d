import type { CommandBatch, StatusCount, WinCommand } from './commands.types';
import type { BatchView } from './commands.service';

/** The seed's command shape: exactly these fields, in this order. */
export function presentCommand(c: WinCommand) {
  return {
    cmdId: c.cmdId,
    status: c.status,
    config: c.config,
    data: c.data,
    statusCode: c.statusCode,
    sentAt: c.sentAt,
    receivedAt: c.receivedAt,
    canceledAt: c.canceledAt,
  };
}

/** The seed's POST response shape. */
export function presentBatch(b: BatchView) {
  return {
    id: b.id,
    organizationId: b.organizationId,
    winEnterpriseId: b.winEnterpriseId,
    winDeviceId: b.winDeviceId,
    mdmUserId: b.mdmUserId,
    commands: b.commands.map(presentCommand),
    updatedAt: b.updatedAt,
    createdAt: b.createdAt,
  };
}

export function presentBatchDetail(b: BatchView) {
  return { ...presentBatch(b), name: b.name, summary: b.summary };
}

export function presentBatchSummary(b: CommandBatch & { summary: StatusCount[] }) {
  return {
    id: b.id,
    name: b.name,
    winDeviceId: b.winDeviceId,
    summary: b.summary,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
  };
}
