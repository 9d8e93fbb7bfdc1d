import { Types } from 'mongoose';
import { CommandDeliveryRepository } from '../../src/commands/command-delivery.repository';
import {
  CommandDeliveryService,
  type DeviceReports,
} from '../../src/commands/command-delivery.service';
import type { CommandConfig, WinCommand } from '../../src/commands/commands.types';
import { afterNextCall } from '../support/interleave';
import {
  commandDocs,
  device,
  deviceRef,
  getConfig,
  type Medium,
  type MediumDevice,
  queue,
  replaceConfig,
  startMedium,
  tenant,
} from '../support/medium';

// The commands module's side of a session against the real store: statuses (and the races
// between them), late Results, redelivery, unenrollment, undeliverable commands.

let m: Medium;
let delivery: CommandDeliveryService;
let repo: CommandDeliveryRepository;
const NOW = new Date('2026-03-01T10:00:00.000Z');

beforeAll(async () => {
  m = await startMedium(__filename);
  delivery = m.module.get(CommandDeliveryService);
  repo = m.module.get(CommandDeliveryRepository);
});
afterAll(() => m.close());
afterEach(() => jest.restoreAllMocks());

const get = getConfig;
const replace = replaceConfig;
const ref = deviceRef;
const reports = (
  statuses: [cmdRef: string, cmd: string, code: string][],
  results: DeviceReports['results'] = [],
): DeviceReports => ({
  statuses: statuses.map(([cmdRef, cmd, code]) => ({ cmdRef, cmd, code, msgRef: '1' })),
  results,
  receivedAt: NOW,
});

/** A device with `configs` queued and sent in one session. */
async function sent(configs: CommandConfig[]): Promise<{ d: MediumDevice; cmds: WinCommand[] }> {
  const d = await device(m, await tenant(m));
  await queue(m, d, configs);
  const pending = await delivery.pending(ref(d), 50, true);
  const taken = await delivery.take(ref(d), pending, 'S1', NOW);
  return { d, cmds: taken.sent };
}

const stored = async (d: MediumDevice) =>
  (await commandDocs(m, d)).map((c) => [c.cmdId, c.status, c.statusCode]);

describe('recordStatuses', () => {
  it('applies each answerable Status once and ignores the rest', async () => {
    const { d, cmds } = await sent([get('./A'), replace('./B'), replace('./C'), get('./D')]);
    const [a, b, c, dd] = cmds.map((x) => x.cmdId);
    const applied = await delivery.recordStatuses(
      ref(d),
      reports(
        [
          [a, 'Get', '200'],
          ['unknown-0', 'Get', '200'], // not ours
          [b, 'Get', '200'], // another verb
          [c, 'Replace', '101'], // in progress: stays Awaiting
          [c, 'Replace', '200'], // a second Status in one message
          [dd, '', '404'], // no Cmd: the verb is not checked
        ],
        [{ cmdRef: a, items: [{ path: './A', format: 'chr', type: 'text/plain', value: 'x' }] }],
      ),
    );
    expect(applied).toEqual([a, c, dd]);
    expect(await stored(d)).toEqual([
      [a, 'Acknowledged', '200'],
      [b, 'Awaiting', null],
      [c, 'Awaiting', '101'],
      [dd, 'CommandNotFound', '404'],
    ]);
    expect((await commandDocs(m, d))[0].data).toEqual([
      { path: './A', format: 'chr', type: 'text/plain', value: 'x' },
    ]);
    // A finished command takes no further Status.
    expect(await delivery.recordStatuses(ref(d), reports([[a, 'Get', '500']]))).toEqual([]);
  });

  it('stores the Results items as the device sent them, and none for a Get without Results', async () => {
    const { d, cmds } = await sent([get('./A'), get('./B')]);
    const [a, b] = cmds.map((x) => x.cmdId);
    await delivery.recordStatuses(
      ref(d),
      reports(
        [
          [a, 'Get', '200'],
          [b, 'Get', '200'],
        ],
        [{ cmdRef: a, items: [{ path: './A' }] }],
      ),
    );
    expect((await commandDocs(m, d)).map((c) => c.data)).toEqual([[{ path: './A' }], []]);
    const late = [{ cmdRef: b, items: [{ path: './B', value: 'v' }] }];
    expect(await delivery.attachLateResults(ref(d), late)).toBe(1);
    expect((await commandDocs(m, d))[1].data).toEqual([{ path: './B', value: 'v' }]);
  });

  it('lets only one of two racing Statuses for a command apply', async () => {
    const { d, cmds } = await sent([replace('./A'), replace('./B')]);
    const [a, b] = cmds.map((x) => x.cmdId);
    let other: string[] = [];
    // The other message's Status lands after this one read the commands, before it writes.
    afterNextCall(repo, 'findAwaiting', async () => {
      other = await delivery.recordStatuses(ref(d), reports([[b, 'Replace', '500']]));
    });
    const mine = await delivery.recordStatuses(
      ref(d),
      reports([
        [a, 'Replace', '200'],
        [b, 'Replace', '200'],
      ]),
    );
    expect(other).toEqual([b]);
    expect(mine).toEqual([a]);
    expect(await stored(d)).toEqual([
      [a, 'Acknowledged', '200'],
      [b, 'UnexpectedError', '500'],
    ]);
  });

  it('attaches Results whose Status came earlier, once, and only to a Get', async () => {
    const { d, cmds } = await sent([get('./A'), replace('./B')]);
    const [a, b] = cmds.map((x) => x.cmdId);
    await delivery.recordStatuses(
      ref(d),
      reports([
        [a, 'Get', '200'],
        [b, 'Replace', '200'],
      ]),
    );
    const late = (cmdRef: string, value: string) => ({ cmdRef, items: [{ path: './A', value }] });
    expect(await delivery.attachLateResults(ref(d), [late(a, 'v1'), late(b, 'no')])).toBe(1);
    expect(await delivery.attachLateResults(ref(d), [late(a, 'v2')])).toBe(0);
    // Results in a message whose Status for the command is refused count as late.
    await delivery.recordStatuses(ref(d), reports([[a, 'Get', '200']], [late(a, 'v3')]));
    expect((await commandDocs(m, d)).map((c) => c.data)).toEqual([
      [{ path: './A', value: 'v1' }],
      [],
    ]);
  });
});

describe('redelivery', () => {
  it('requeues unanswered commands while attempts remain, then expires them', async () => {
    const { d, cmds } = await sent([replace('./A'), replace('./B')]);
    await delivery.recordStatuses(ref(d), reports([[cmds[1].cmdId, 'Replace', '101']]));
    await delivery.requeueUnanswered(ref(d), NOW);
    // 101: the device is still executing it.
    expect((await stored(d)).map((c) => c[1])).toEqual(['Pending', 'Awaiting']);
    for (let i = 0; i < 2; i++) {
      const again = await delivery.take(
        ref(d),
        await delivery.pending(ref(d), 50, true),
        `S${i + 2}`,
        NOW,
      );
      expect(again.sent.map((c) => c.attempts)).toEqual([i + 2]);
      await delivery.requeueUnanswered(ref(d), NOW, `S${i + 2}`);
    }
    expect((await stored(d)).map((c) => c[1])).toEqual([
      'ExpectedMessageNotReceivedInRequiredPeriodOfTime',
      'Awaiting',
    ]);
    await delivery.requeueUnanswered(ref(d), NOW); // nothing left to move
  });

  it('counts exactly the commands it moved, not others stamped at the same time', async () => {
    const { d, cmds } = await sent([replace('./A'), replace('./B'), replace('./C')]);
    // C is still executing (101) and then expires with the same timestamp the expiry below uses.
    await delivery.recordStatuses(ref(d), reports([[cmds[2].cmdId, 'Replace', '101']]));
    expect(
      (await repo.expireInterim(d.winDeviceId, new Date(NOW.getTime() + 1), NOW)).expired,
    ).toBe(1);
    // One attempt allowed: both A and B expire now.
    expect(await repo.requeueUnanswered(d.winDeviceId, 1, NOW)).toEqual({
      requeued: 0,
      expired: 2,
    });
    expect(await repo.requeueUnanswered(d.winDeviceId, 1, NOW)).toEqual({
      requeued: 0,
      expired: 0,
    });
  });

  it('returns the commands of an unsent answer untouched, and nothing when none were taken', async () => {
    const { d, cmds } = await sent([replace('./A')]);
    const taken = { sent: cmds, opToken: (await commandDocs(m, d))[0].opToken as string };
    await delivery.returnUnsent(ref(d), { sent: [], opToken: taken.opToken });
    expect((await stored(d))[0][1]).toBe('Awaiting');
    await delivery.returnUnsent(ref(d), taken);
    expect((await commandDocs(m, d)).map((c) => [c.status, c.attempts, c.sentAt])).toEqual([
      ['Pending', 0, null],
    ]);
  });

  it('sends only the chosen commands still Pending when taken', async () => {
    const d = await device(m, await tenant(m));
    const batch = await queue(m, d, [replace('./A'), replace('./B')]);
    const pending = await delivery.pending(ref(d), 50, true);
    await m.db
      .collection('win_commands')
      .updateOne({ cmdId: batch.commands[0].cmdId }, { $set: { status: 'Cancel' } });
    const taken = await delivery.take(ref(d), pending, 'S1', NOW);
    expect(taken.sent.map((c) => [c.cmdId, c.status, c.attempts])).toEqual([
      [batch.commands[1].cmdId, 'Awaiting', 1],
    ]);
  });

  it('holds ./User/ commands back unless user scope is allowed', async () => {
    const d = await device(m, await tenant(m));
    await queue(m, d, [replace('./User/Vendor/A'), replace('./Device/Vendor/B')]);
    expect((await delivery.pending(ref(d), 50, false)).map((c) => c.config.path)).toEqual([
      './Device/Vendor/B',
    ]);
  });
});

describe('closing', () => {
  it('cancels Pending and expires Awaiting commands at unenrollment', async () => {
    const { d } = await sent([replace('./A')]);
    await queue(m, d, [replace('./B')]);
    await delivery.closeQueue(ref(d), NOW);
    expect((await stored(d)).map((c) => c[1])).toEqual([
      'ExpectedMessageNotReceivedInRequiredPeriodOfTime',
      'Cancel',
    ]);
    await delivery.closeQueue(ref(d), NOW); // idempotent
  });

  it('counts exactly the commands it closed, not others closed at the same time', async () => {
    const { d } = await sent([replace('./A')]);
    await queue(m, d, [replace('./B')]);
    expect(await repo.closeQueue(d.winDeviceId, NOW)).toEqual({ canceled: 1, expired: 1 });
    await queue(m, d, [replace('./C')]);
    expect(await repo.closeQueue(d.winDeviceId, NOW)).toEqual({ canceled: 1, expired: 0 });
    expect(await repo.closeQueue(d.winDeviceId, NOW)).toEqual({ canceled: 0, expired: 0 });
  });

  it('fails an undeliverable command only while it is Pending', async () => {
    const d = await device(m, await tenant(m));
    await queue(m, d, [replace('./A')]);
    const [c] = await delivery.pending(ref(d), 50, true);
    await delivery.failUndeliverable(ref(d), c, NOW, 'too long');
    await delivery.failUndeliverable(ref(d), c, NOW, 'too long');
    const doc = (await commandDocs(m, d))[0];
    expect(doc).toMatchObject({ status: 'RequestItemTooLong', receivedAt: NOW });
    expect(doc.winDeviceId).toEqual(new Types.ObjectId(d.winDeviceId));
  });
});
