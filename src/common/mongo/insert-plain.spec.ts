import mongoose, { Schema, Types } from 'mongoose';
import { WinCommandBatchSchema } from '../../commands/win-command-batch.schema';
import { AuditRecordSchema } from '../../audit/audit-record.schema';
import { insertPlain } from './insert-plain';

/** A model whose collection records what the driver was given, instead of a store. */
function recording<T>(name: string, schema: Schema<T>) {
  const model = mongoose.model<T>(`InsertPlain${name}`, schema);
  const inserted: unknown[] = [];
  Object.defineProperty(model, 'collection', {
    value: { insertOne: (doc: unknown) => (inserted.push(doc), Promise.resolve()) },
  });
  return { model, inserted };
}

/** What `Model.create` would store: the mongoose document of the same fields. */
function viaDocument<T>(model: mongoose.Model<T>, fields: object): Record<string, unknown> {
  return new model(fields).toObject() as Record<string, unknown>;
}

const id = () => new Types.ObjectId();

describe('insertPlain', () => {
  it('stores a batch as create would: ids cast, defaults, timestamps, unknown fields dropped', async () => {
    const { model, inserted } = recording('Batch', WinCommandBatchSchema);
    const fields = {
      _id: id(),
      organizationId: id().toHexString(),
      winEnterpriseId: id().toHexString(),
      winDeviceId: id().toHexString(),
      createdBy: 'admin',
      commandCount: '3',
      outbox: [{ k: 'k1', type: 'command.batch.created', at: new Date(0) }],
      outboxAt: new Date(0),
      outboxDue: true,
      notInSchema: 'x',
    };
    const before = Date.now();
    const doc = (await insertPlain(model, fields)) as unknown as Record<string, unknown>;
    expect(inserted).toEqual([doc]);
    const { createdAt, updatedAt, ...stored } = doc;
    expect(stored).toEqual(viaDocument(model, fields));
    expect(stored.organizationId).toBeInstanceOf(Types.ObjectId);
    expect(stored.commandCount).toBe(3);
    expect(stored).not.toHaveProperty('notInSchema');
    expect(stored).toMatchObject({ mdmUserId: null, name: null });
    expect((createdAt as Date).getTime()).toBeGreaterThanOrEqual(before);
    expect(updatedAt).toEqual(createdAt);
  });

  it('stores an audit record as create would, with an _id of its own', async () => {
    const { model, inserted } = recording('Audit', AuditRecordSchema);
    const fields = {
      organizationId: null,
      actor: 'admin',
      method: 'POST',
      route: '/v1/organizations',
      outcome: 'failure',
      status: 400,
      at: new Date(0),
    };
    const doc = (await insertPlain(model, fields)) as unknown as Record<string, unknown>;
    expect(inserted).toHaveLength(1);
    expect(doc._id).toBeInstanceOf(Types.ObjectId);
    const { _id, ...stored } = doc;
    const { _id: _other, ...expected } = viaDocument(model, fields);
    expect(_other).toBeInstanceOf(Types.ObjectId);
    expect(stored).toEqual(expected);
    expect(stored).toMatchObject({ params: {}, targetIds: [], summary: {}, errorCode: null });
    expect(String(_id)).not.toBe(String(_other));
  });

  it('throws on a value the schema cannot cast, and inserts nothing', async () => {
    const { model, inserted } = recording('Bad', WinCommandBatchSchema);
    await expect(
      insertPlain(model, { organizationId: 'not-an-id', createdBy: 'a', commandCount: 1 }),
    ).rejects.toThrow(/organizationId/);
    expect(inserted).toEqual([]);
  });
});
