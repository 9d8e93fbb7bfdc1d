import { Types } from 'mongoose';
import { planFieldsOf } from '../../src/devices/plan-bucket';

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
