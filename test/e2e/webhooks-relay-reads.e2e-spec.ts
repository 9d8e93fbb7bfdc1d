import type { CommandStartedEvent, Document } from 'mongodb';
import { Types } from 'mongoose';
import { OutboxRelay } from '../../src/webhooks/outbox-relay';
import { bearer, startTestApp, TestApp } from '../support/app';
import { seedDevice } from '../support/seed';
import { getCmd, queue } from '../support/syncml-device';

/**
 * What one relay pass asks the store (decisions.md §54): on FerretDB only top-level equalities
 * are pushed down, so an acknowledgement must name its document by `_id` equality (an `$in`
 * left only `outboxDue: true`, and each statement decoded the whole backlog), and a read of the
 * backlog must not sort (FerretDB sorts after decoding everything the filter selects).
 */
describe('webhook relay: the statements of one pass', () => {
  let t: TestApp;
  const started: CommandStartedEvent[] = [];
  beforeAll(async () => {
    t = await startTestApp(__filename, {}, { mongo: { monitorCommands: true } });
    t.db.getClient().on('commandStarted', (e: CommandStartedEvent) => started.push(e));
  });
  afterAll(() => t.close());

  it('acknowledges each document by _id and reads the backlog without sorting', async () => {
    const d = await seedDevice(t);
    const batch = await queue(t, d, [getCmd('./DevInfo/Man'), getCmd('./DevInfo/Mod')]);
    // One statement cancels both commands, so both hold the same records: the old relay cleared
    // them with one `_id: {$in}` statement.
    const cancel = await t.http
      .post(
        `/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.winDeviceId}/commands/${batch.id}/cancel`,
      )
      .set(bearer(d.token))
      .send({});
    expect(cancel.status).toBe(200);
    const relay = t.app.get(OutboxRelay);

    started.length = 0;
    expect(await relay.runOnce()).toBeGreaterThanOrEqual(3); // the batch and its two commands
    const of = (name: string, coll: string) =>
      started.filter((e) => e.commandName === name && e.command[name] === coll);

    const reads = [...of('find', 'win_commands'), ...of('find', 'win_command_batches')];
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const e of reads) {
      expect(e.command.filter).toMatchObject({ outboxDue: true });
      expect(e.command.sort).toBeUndefined();
    }

    // The acknowledgements (the process's one-time adoption of older records is not one).
    const acks = of('update', 'win_commands')
      .flatMap((e) => e.command.updates as Document[])
      .filter((u) => u.u.$unset?.outboxDue !== undefined);
    expect(acks).toHaveLength(2);
    for (const u of acks) {
      expect(u.q._id).toBeInstanceOf(Types.ObjectId);
      expect(u.multi).toBeFalsy();
    }
    const commandIds = await t.db
      .collection('win_commands')
      .find({ batchId: new Types.ObjectId(batch.id) })
      .map((c) => String(c._id))
      .toArray();
    expect(acks.map((u) => String(u.q._id)).sort()).toEqual(commandIds.sort());

    // Acknowledged: nothing is left for the next pass.
    const left = await t.db
      .collection('win_commands')
      .countDocuments({ batchId: new Types.ObjectId(batch.id), outboxDue: true });
    expect(left).toBe(0);
    expect(await relay.runOnce()).toBe(0);
  });
});
