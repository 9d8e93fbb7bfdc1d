import { Types } from 'mongoose';
import { CommandHistoryRepository } from '../../src/commands/command-history.repository';
import { CommandRetentionJob, RETENTION_BATCH } from '../../src/commands/command-retention.job';
import { CommandsRepository } from '../../src/commands/commands.repository';
import { APP_CONFIG, type AppConfig } from '../../src/config/app-config';
import { INSTANCE_LEASE_COLLECTION } from '../../src/common/mongo/instance-lease';
import { type Medium, startMedium } from '../support/medium';

// COMMAND_HISTORY_RETENTION_DAYS against the real store: what the retention job deletes, and
// what it must never delete.

const NOW = new Date('2026-06-01T00:00:00.000Z');
const daysAgo = (n: number) => new Date(NOW.getTime() - n * 24 * 60 * 60 * 1000);

let m: Medium;
let job: CommandRetentionJob;

beforeAll(async () => {
  m = await startMedium(__filename, [], { COMMAND_HISTORY_RETENTION_DAYS: '30' });
  job = m.module.get(CommandRetentionJob);
});
afterAll(() => m.close());
beforeEach(async () => {
  await m.db.collection('win_commands').deleteMany({});
  await m.db.collection('win_command_batches').deleteMany({});
  await m.db.collection(INSTANCE_LEASE_COLLECTION).deleteMany({});
});

interface Seed {
  status: string;
  receivedAt?: Date | null;
  canceledAt?: Date | null;
  outboxAt?: Date;
}

/** A batch with one command per seed, written directly (queued 60 days ago). */
async function batch(seeds: Seed[]): Promise<{
  batchId: Types.ObjectId;
  ids: Types.ObjectId[];
  organizationId: Types.ObjectId;
  winDeviceId: Types.ObjectId;
}> {
  const batchId = new Types.ObjectId();
  const organizationId = new Types.ObjectId();
  const winDeviceId = new Types.ObjectId();
  const queuedAt = daysAgo(60);
  await m.db.collection('win_command_batches').insertOne({
    _id: batchId,
    organizationId,
    winEnterpriseId: new Types.ObjectId(),
    winDeviceId,
    createdBy: 'admin-1',
    commandCount: seeds.length,
    createdAt: queuedAt,
    updatedAt: queuedAt,
  });
  const docs = seeds.map((s, position) => ({
    _id: new Types.ObjectId(),
    cmdId: `${batchId.toHexString()}-${position}`,
    batchId,
    organizationId,
    winDeviceId,
    queuedAt,
    position,
    config: { path: './Vendor/MSFT/x', action: 'Get', format: 'chr' },
    status: s.status,
    statusCode: null,
    data: [],
    attempts: 1,
    sentAt: s.status === 'Pending' ? null : queuedAt,
    receivedAt: s.receivedAt ?? null,
    canceledAt: s.canceledAt ?? null,
    ...(s.outboxAt && { outboxAt: s.outboxAt, outbox: [] }),
    createdAt: queuedAt,
    updatedAt: queuedAt,
  }));
  await m.db.collection('win_commands').insertMany(docs);
  return { batchId, ids: docs.map((d) => d._id), organizationId, winDeviceId };
}

const remaining = async () =>
  (await m.db.collection('win_commands').find({}).toArray()).map((d) => d._id.toHexString());
const batchExists = async (id: Types.ObjectId) =>
  (await m.db.collection('win_command_batches').countDocuments({ _id: id })) === 1;

describe('command history retention', () => {
  it('deletes old finished commands, keeps live and recent ones, and empty batches go', async () => {
    const old = await batch([
      { status: 'Acknowledged', receivedAt: daysAgo(40) },
      { status: 'Cancel', canceledAt: daysAgo(45) },
      { status: 'ExpectedMessageNotReceivedInRequiredPeriodOfTime', receivedAt: daysAgo(31) },
    ]);
    const mixed = await batch([
      { status: 'UnexpectedError', receivedAt: daysAgo(50) },
      // Queued 60 days ago and never sent: not history, whatever its age.
      { status: 'Pending' },
      // Sent, answered 101 long ago: still open (an interim answer), never deleted.
      { status: 'Awaiting', receivedAt: daysAgo(50) },
      // Finished inside the retention.
      { status: 'Acknowledged', receivedAt: daysAgo(5) },
      { status: 'Cancel', canceledAt: daysAgo(29) },
      // Its webhook event is not relayed yet.
      { status: 'Acknowledged', receivedAt: daysAgo(40), outboxAt: daysAgo(40) },
    ]);

    const run = await job.runOnce(NOW);

    expect(run).toEqual({ ran: true, commands: 4, batches: 1 });
    expect((await remaining()).sort()).toEqual(
      mixed.ids
        .slice(1)
        .map((id) => id.toHexString())
        .sort(),
    );
    expect(await batchExists(old.batchId)).toBe(false);
    expect(await batchExists(mixed.batchId)).toBe(true);
    // The job's lease is given up when the run ends.
    expect(await m.db.collection(INSTANCE_LEASE_COLLECTION).countDocuments({})).toBe(0);
  });

  it('makes a batch that lost some commands forget the counts it kept', async () => {
    const kept = await batch([
      { status: 'Acknowledged', receivedAt: daysAgo(40) },
      { status: 'Acknowledged', receivedAt: daysAgo(5) },
    ]);
    const untouched = await batch([{ status: 'Acknowledged', receivedAt: daysAgo(5) }]);
    const counts = [{ status: 'Acknowledged', count: 2 }];
    for (const { batchId } of [kept, untouched]) {
      await m.db
        .collection('win_command_batches')
        .updateOne({ _id: batchId }, { $set: { finalSummary: counts } });
    }

    expect(await job.runOnce(NOW)).toEqual({ ran: true, commands: 1, batches: 0 });

    const doc = async (id: Types.ObjectId) =>
      m.db.collection('win_command_batches').findOne({ _id: id });
    const after = await doc(kept.batchId);
    expect(after).not.toHaveProperty('finalSummary');
    // Forgetting is not a change the API shows.
    expect(after?.updatedAt).toEqual(daysAgo(60));
    expect(after?.summaryEpoch).toBe(1);
    expect((await doc(untouched.batchId))?.finalSummary).toEqual(counts);
  });

  describe('against a list read that keeps counts (decisions.md §46)', () => {
    const page = { page: 1, limit: 20, sort: { field: 'createdAt', direction: -1 as const } };
    const batchDoc = (id: Types.ObjectId) =>
      m.db.collection('win_command_batches').findOne({ _id: id });

    /** A list read's first half: the device's batches, then their commands counted. */
    async function countAsAListRead(b: Awaited<ReturnType<typeof batch>>) {
      const repo = m.module.get(CommandsRepository);
      const orgId = b.organizationId.toHexString();
      const batches = await repo.listBatches(orgId, b.winDeviceId.toHexString(), page);
      const { settled } = await repo.countStatuses(orgId, batches.docs);
      return { repo, settled };
    }

    it('never stores counts taken before a thinning that came between count and write', async () => {
      const b = await batch([
        { status: 'Acknowledged', receivedAt: daysAgo(40) },
        { status: 'Acknowledged', receivedAt: daysAgo(5) },
      ]);
      const { repo, settled } = await countAsAListRead(b);
      expect(settled.map((x) => x.summary)).toEqual([[{ status: 'Acknowledged', count: 2 }]]);

      expect(await job.runOnce(NOW)).toEqual({ ran: true, commands: 1, batches: 0 });
      await repo.keepFinalSummaries(settled);

      const doc = await batchDoc(b.batchId);
      expect(doc).not.toHaveProperty('finalSummary');
      expect(doc?.summaryEpoch).toBe(1);
      // The next list read counts what is still stored, and has nothing to keep (1 of 2).
      const next = await countAsAListRead(b);
      expect(next.settled).toEqual([]);
    });

    it('stores counts read under the epoch the batch still has', async () => {
      const b = await batch([{ status: 'Acknowledged', receivedAt: daysAgo(5) }]);
      await m.db
        .collection('win_command_batches')
        .updateOne({ _id: b.batchId }, { $set: { summaryEpoch: 3 } });
      const fresh = await countAsAListRead(b);
      await fresh.repo.keepFinalSummaries(fresh.settled);
      expect(await batchDoc(b.batchId)).toMatchObject({
        finalSummary: [{ status: 'Acknowledged', count: 1 }],
        summaryEpoch: 3,
      });

      const never = await batch([{ status: 'Cancel', canceledAt: daysAgo(5) }]);
      const first = await countAsAListRead(never);
      await first.repo.keepFinalSummaries(first.settled);
      expect((await batchDoc(never.batchId))?.finalSummary).toEqual([
        { status: 'Cancel', count: 1 },
      ]);
    });
  });

  it('deletes in bounded batches until nothing old is left', async () => {
    const many = Array.from({ length: RETENTION_BATCH + 20 }, () => ({
      status: 'Acknowledged',
      receivedAt: daysAgo(90),
    }));
    const b = await batch(many);
    const kept = await batch([{ status: 'Acknowledged', receivedAt: daysAgo(1) }]);

    expect(await job.runOnce(NOW)).toEqual({ ran: true, commands: many.length, batches: 1 });
    expect(await remaining()).toEqual([kept.ids[0].toHexString()]);
    expect(await batchExists(b.batchId)).toBe(false);
  });

  it('does nothing while another instance holds the job', async () => {
    const b = await batch([{ status: 'Acknowledged', receivedAt: daysAgo(40) }]);
    await m.db
      .collection<{ _id: string; [k: string]: unknown }>(INSTANCE_LEASE_COLLECTION)
      .insertOne({
        _id: 'job:command-retention',
        holder: 'another-instance',
        host: 'elsewhere',
        pid: 1,
        startedAt: NOW,
        expiresAt: new Date(NOW.getTime() + 60_000),
      });

    expect(await job.runOnce(NOW)).toEqual({ ran: false, commands: 0, batches: 0 });
    expect(await remaining()).toEqual([b.ids[0].toHexString()]);
    // Once that lease has expired, the next run takes it over.
    expect((await job.runOnce(new Date(NOW.getTime() + 120_000))).commands).toBe(1);
  });

  it('keeps everything with retention 0 (the default)', async () => {
    const config = m.module.get<AppConfig>(APP_CONFIG);
    const keepAll = new CommandRetentionJob(
      { ...config, commands: { ...config.commands, historyRetentionDays: 0 } },
      m.module.get(CommandHistoryRepository),
    );
    const b = await batch([{ status: 'Acknowledged', receivedAt: daysAgo(3650) }]);

    expect(await keepAll.runOnce(NOW)).toEqual({ ran: false, commands: 0, batches: 0 });
    expect(await remaining()).toEqual([b.ids[0].toHexString()]);
    expect(await batchExists(b.batchId)).toBe(true);
  });
});
