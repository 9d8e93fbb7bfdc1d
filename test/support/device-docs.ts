import { Connection, Types } from 'mongoose';
import { planFieldsOf } from '../../src/devices/plan-bucket';
import { targetCountId } from '../../src/devices/target-counts';

/**
 * An active `win_devices` document as enrollment stores it, for writing thousands through the
 * driver in one round trip (tests and benches that need a large fleet). It carries its planning
 * partition as created devices do.
 */
export function rawDeviceDoc(o: {
  orgId: string;
  enterpriseId: string;
  deviceId: string;
  labels: string[];
  now: Date;
}) {
  const _id = new Types.ObjectId();
  return {
    _id,
    ...planFieldsOf(_id.toHexString()),
    organizationId: new Types.ObjectId(o.orgId),
    winEnterpriseId: new Types.ObjectId(o.enterpriseId),
    deviceId: o.deviceId,
    status: 'active',
    labels: o.labels,
    queueSeq: 0,
    queueWrites: 0,
    createdAt: o.now,
    updatedAt: o.now,
  };
}

/**
 * What the server adds to the enterprise's target counts when it creates devices (decisions.md
 * §49), for fleets written through the driver: `n` more devices, each carrying `labels`.
 */
export async function countInsertedDevices(
  db: Connection,
  enterpriseId: string,
  n: number,
  labels: string[],
): Promise<void> {
  await db.collection<{ _id: string }>('win_target_counts').bulkWrite(
    [null, ...new Set(labels)].map((label) => ({
      updateOne: {
        filter: { _id: targetCountId(enterpriseId, label) },
        update: {
          $inc: { devices: n, seq: 1 },
          $setOnInsert: { winEnterpriseId: new Types.ObjectId(enterpriseId), label },
        },
        upsert: true,
      },
    })),
  );
}

/**
 * `n` devices written through the driver in the enterprise (10,000 per round trip), counted as
 * the server counts created devices; answers their ids in insertion (= _id) order.
 */
export async function insertRawDevices(
  db: Connection,
  at: { orgId: string; enterpriseId: string },
  n: number,
  o: { labels?: string[]; deviceId: (i: number) => string },
): Promise<string[]> {
  const labels = o.labels ?? [];
  const now = new Date();
  const ids: string[] = [];
  for (let i = 0; i < n; i += 10_000) {
    const docs = Array.from({ length: Math.min(10_000, n - i) }, (_, k) =>
      rawDeviceDoc({ ...at, deviceId: o.deviceId(i + k), labels, now }),
    );
    await db.collection('win_devices').insertMany(docs, { ordered: false });
    ids.push(...docs.map((d) => d._id.toHexString()));
  }
  await countInsertedDevices(db, at.enterpriseId, n, labels);
  return ids;
}
