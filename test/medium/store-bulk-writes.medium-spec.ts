import { MongoClient } from 'mongodb';
import { dropTestDatabase, testDatabaseUri } from '../support/store';

/**
 * The store takes one bulk write of more `updateOne` statements than FerretDB's PostgreSQL pool
 * holds (50). Upstream FerretDB 1.24 kept every statement's query open until the command ended
 * and waited forever for the 51st connection; mullion's build closes each as it is done
 * (decisions.md §55). On MongoDB this holds trivially.
 */
describe('store: one bulk write of many single-document updates', () => {
  const uri = testDatabaseUri(__filename);
  const client = new MongoClient(uri);
  beforeAll(() => client.connect());
  afterAll(async () => {
    await client.close();
    await dropTestDatabase(uri);
  });

  it('applies 200 updateOne statements (and upserts) in one command', async () => {
    const items = client.db().collection<{ _id: string; n: number }>('bulk_items');
    await items.insertMany(Array.from({ length: 100 }, (_, i) => ({ _id: `item-${i}`, n: 0 })));
    const ops = Array.from({ length: 200 }, (_, i) => ({
      updateOne: { filter: { _id: `item-${i}` }, update: { $inc: { n: 1 } }, upsert: true },
    }));
    const res = await items.bulkWrite(ops, { ordered: false });
    expect({ modified: res.modifiedCount, upserted: res.upsertedCount }).toEqual({
      modified: 100,
      upserted: 100,
    });
    expect(await items.countDocuments({ n: 1 })).toBe(200);
  });
});
