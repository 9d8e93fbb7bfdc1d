import type { SchemaDefinition } from 'mongoose';
import { randomUUID } from 'node:crypto';

/**
 * The transactional outbox (docs/decisions.md, webhooks): a state change that has subscribers
 * outside its module also `$push`es one small record onto the document it changes, in the same
 * conditional update, so the change and its event are stored or lost together. The webhooks
 * relay turns each record into deliveries with ids derived from (document, `k`) and then
 * `$pull`s it; `outboxDue` + `outboxAt` (indexed, unset when the outbox is empty) is how it finds
 * them.
 */
/** The outbox-recorded event types (webhook subscribers filter on them). */
export const OutboxEvent = {
  CommandStatusChanged: 'command.status.changed',
  CommandBatchCreated: 'command.batch.created',
  DeviceEnrolled: 'device.enrolled',
  DeviceUnenrolled: 'device.unenrolled',
} as const;

export interface OutboxEntry {
  /** Unique per record: the event id is `<document id>-<k>`, so a replayed relay dedupes. */
  k: string;
  type: string;
  at: Date;
  /** The state the change reached (a command's status), when the document may move on. */
  status?: string;
  statusCode?: string | null;
}

/** A command's status change: the status it reached, which the document may since have left. */
export function statusEntry(at: Date, status: string, statusCode?: string | null): OutboxEntry {
  return outboxEntry(OutboxEvent.CommandStatusChanged, at, {
    status,
    ...(statusCode !== undefined && { statusCode }),
  });
}

export function outboxEntry(
  type: string,
  at: Date,
  fields: Pick<OutboxEntry, 'status' | 'statusCode'> = {},
): OutboxEntry {
  return { k: randomUUID(), type, at, ...fields };
}

type Update = Record<string, unknown> & { $set?: Record<string, unknown> };

/** `update` plus the outbox record, in the same single-document update. */
export function withOutbox<U extends Update>(update: U, entry: OutboxEntry): U {
  return {
    ...update,
    $set: { ...update.$set, outboxAt: entry.at, outboxDue: true },
    $push: { outbox: entry },
  };
}

/** The schema fields a document with an outbox declares (mongoose drops undeclared paths). */
export const OUTBOX_FIELDS: SchemaDefinition = {
  outbox: { type: [Object], default: undefined },
  outboxAt: { type: Date, default: undefined },
  // The relay's equality key: FerretDB pushes equality filters down to PostgreSQL, not the range
  // on outboxAt, which it would answer by reading the whole collection (decisions.md §43).
  outboxDue: { type: Boolean, default: undefined },
};
