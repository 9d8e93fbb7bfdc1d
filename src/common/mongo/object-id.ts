import { Types } from 'mongoose';

/** A 24-hex ObjectId as it appears in API paths and entities. */
export const OBJECT_ID = /^[a-fA-F0-9]{24}$/;

/**
 * A fresh document id, for the few inserts whose id must be known before the write (a
 * certificate bound to a device before the device exists, cmdIds derived from their batch id).
 * Only repositories call it: services ask their repository.
 */
export function newObjectId(): string {
  return new Types.ObjectId().toHexString();
}
