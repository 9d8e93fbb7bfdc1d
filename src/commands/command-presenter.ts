import type { CommandBatch, StatusCount, WinCommand } from './commands.types';
import type { BatchView } from './commands.service';

/** The seed's command shape: exactly these fields, in this order. */
export function presentCommand(c: WinCommand) {
  return {
    cmdId: c.cmdId,
    status: c.status,
    config: c.config,
    data: c.data,
    // Stored as the device sent it (a string); the API answers the SyncML code as a number.
    statusCode: c.statusCode === null ? null : Number(c.statusCode),
    sentAt: c.sentAt,
    receivedAt: c.receivedAt,
    canceledAt: c.canceledAt,
  };
}

/** One batch, as POST answers it and GET …/commands/:winCommandId reads it back. */
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
    name: b.name,
    summary: b.summary,
    // Only batches queued by POST …/actions carry it.
    ...(b.action && { action: b.action }),
    // Only batches another module queued (a profile's delivery) carry it.
    ...(b.origin && { origin: b.origin }),
    // Only atomic batches carry it.
    ...(b.atomic && { atomic: true }),
  };
}

export function presentBatchSummary(b: CommandBatch & { summary: StatusCount[] }) {
  return {
    id: b.id,
    name: b.name,
    winDeviceId: b.winDeviceId,
    summary: b.summary,
    ...(b.origin && { origin: b.origin }),
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
  };
}
