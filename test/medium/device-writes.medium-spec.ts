import { Logger } from '@nestjs/common';
import { CommandDeliveryRepository } from '../../src/commands/command-delivery.repository';
import {
  CommandDeliveryService,
  type DeviceReports,
  type DeviceResultsReport,
} from '../../src/commands/command-delivery.service';
import type { WinCommand } from '../../src/commands/commands.types';
import { parseSyncml } from '../../src/syncml/codec';
import {
  ADMIN,
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
import {
  deviceMessage,
  hdrStatus,
  openingCommands,
  resultsCmd,
  statusCmd,
} from '../support/syncml-device';

// Issue 9 "Devices write only what they were asked": Statuses and Results reach only commands
// sent to this device and still awaiting an answer; everything else is ignored (and logged).

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
const results = (cmdRef: string, value = 'forged'): DeviceResultsReport => ({
  cmdRef,
  items: [{ path: './Forged', value }],
});
const withStatus = (cmdRef: string, cmd = 'Get'): DeviceReports => ({
  statuses: [{ cmdRef, cmd, code: '200', msgRef: '1' }],
  results: [results(cmdRef)],
  receivedAt: NOW,
});

/** What the store holds for a device's commands, in queue order. */
const snapshot = async (d: MediumDevice) =>
  (await commandDocs(m, d)).map((c) => ({
    cmdId: c.cmdId,
    status: c.status,
    statusCode: c.statusCode,
    data: c.data,
    receivedAt: c.receivedAt,
  }));

async function sendAll(d: MediumDevice): Promise<WinCommand[]> {
  const pending = await delivery.pending(ref(d), 50, true);
  return (await delivery.take(ref(d), pending, 'S1', NOW)).sent;
}

/** Both ways a device can attach data: Results with their Status, and Results alone. */
async function tryBoth(d: MediumDevice, cmdId: string, cmd = 'Get'): Promise<void> {
  expect(await delivery.recordStatuses(ref(d), withStatus(cmdId, cmd))).toEqual([]);
  expect(await delivery.attachLateResults(ref(d), [results(cmdId)])).toBe(0);
}

describe('Results and Statuses a device was not asked for', () => {
  it('leave its own Pending Get untouched, and are logged', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const d = await device(m, await tenant(m));
    const batch = await queue(m, d, [get('./A')]);
    const before = await snapshot(d);
    await tryBoth(d, batch.commands[0].cmdId);
    expect(await snapshot(d)).toEqual(before);
    expect(before[0]).toMatchObject({ status: 'Pending', data: [] });
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(
      new RegExp(`Results .*${batch.commands[0].cmdId}.*ignored`),
    );
  });

  it('leave a cancelled Get untouched', async () => {
    const d = await device(m, await tenant(m));
    const batch = await queue(m, d, [get('./A')]);
    await m.commands.cancel(ADMIN, d.orgId, d.winDeviceId, batch.id);
    const before = await snapshot(d);
    expect(before[0].status).toBe('Cancel');
    await tryBoth(d, batch.commands[0].cmdId);
    expect(await snapshot(d)).toEqual(before);
  });

  it('leave a Get sent once and back in the queue (requeued) untouched', async () => {
    const d = await device(m, await tenant(m));
    await queue(m, d, [get('./A')]);
    const [a] = await sendAll(d);
    await delivery.requeueUnanswered(ref(d), NOW);
    const before = await snapshot(d);
    expect(before[0].status).toBe('Pending');
    await tryBoth(d, a.cmdId);
    expect(await snapshot(d)).toEqual(before);
  });

  it("leave another device's Get untouched, even one awaiting its Results", async () => {
    const t = await tenant(m);
    const [mine, other] = [await device(m, t), await device(m, t)];
    await queue(m, other, [get('./A'), get('./B')]);
    const [a, b] = await sendAll(other);
    await delivery.recordStatuses(ref(other), {
      statuses: [{ cmdRef: b.cmdId, cmd: 'Get', code: '200', msgRef: '1' }],
      results: [],
      receivedAt: NOW,
    });
    const before = await snapshot(other);
    await tryBoth(mine, a.cmdId);
    await tryBoth(mine, b.cmdId);
    expect(await snapshot(other)).toEqual(before);
  });

  it('attach no data to a Replace, awaiting or answered', async () => {
    const d = await device(m, await tenant(m));
    await queue(m, d, [replace('./A'), replace('./B')]);
    const [a, b] = await sendAll(d);
    await delivery.recordStatuses(ref(d), {
      statuses: [{ cmdRef: b.cmdId, cmd: 'Replace', code: '200', msgRef: '1' }],
      results: [],
      receivedAt: NOW,
    });
    await delivery.recordStatuses(ref(d), withStatus(a.cmdId, 'Replace'));
    expect(await delivery.attachLateResults(ref(d), [results(a.cmdId), results(b.cmdId)])).toBe(0);
    expect((await snapshot(d)).map((c) => [c.status, c.data])).toEqual([
      ['Acknowledged', []],
      ['Acknowledged', []],
    ]);
  });

  it('are refused by the store itself: the conditional update carries the condition', async () => {
    // The repository is the last line: a caller that skipped the service's checks still cannot
    // attach data to a Get that was never sent, was cancelled, or failed.
    const d = await device(m, await tenant(m));
    const batch = await queue(m, d, [get('./Pending'), get('./Cancelled'), get('./Failed')]);
    const [, c, f] = batch.commands.map((x) => x.cmdId);
    const [pId, cId, fId] = batch.commands.map((x) => x.id);
    await m.commands.cancel(ADMIN, d.orgId, d.winDeviceId, batch.id, [c]);
    await sendAll(d); // takes the Pending ./Pending and ./Failed
    await delivery.recordStatuses(ref(d), {
      statuses: [{ cmdRef: f, cmd: 'Get', code: '404', msgRef: '1' }],
      results: [],
      receivedAt: NOW,
    });
    await delivery.requeueUnanswered(ref(d), NOW); // ./Pending: sent once, Pending again
    const before = await snapshot(d);
    expect(before.map((x) => x.status)).toEqual(['Pending', 'Cancel', 'CommandNotFound']);
    const data = [{ path: './Forged', value: 'x' }];
    expect(
      await repo.attachResults(d.winDeviceId, [
        { id: pId, data },
        { id: cId, data },
        { id: fId, data },
      ]),
    ).toBe(0);
    expect(await snapshot(d)).toEqual(before);
  });

  it('still attach Results to a sent Get: with its Status, after it, or before it', async () => {
    const d = await device(m, await tenant(m));
    await queue(m, d, [get('./A'), get('./B'), get('./C')]);
    const [a, b, c] = await sendAll(d);
    await delivery.recordStatuses(ref(d), withStatus(a.cmdId));
    await delivery.recordStatuses(ref(d), {
      statuses: [{ cmdRef: b.cmdId, cmd: 'Get', code: '200', msgRef: '1' }],
      results: [],
      receivedAt: NOW,
    });
    expect(
      await delivery.attachLateResults(ref(d), [results(b.cmdId, 'b'), results(c.cmdId, 'c')]),
    ).toBe(2);
    expect((await snapshot(d)).map((x) => [x.status, x.data])).toEqual([
      ['Acknowledged', [{ path: './Forged', value: 'forged' }]],
      ['Acknowledged', [{ path: './Forged', value: 'b' }]],
      ['Awaiting', [{ path: './Forged', value: 'c' }]],
    ]);
  });
});

describe('through a management session', () => {
  it('a device cannot fill its cancelled Get, in a message or in the next one', async () => {
    const d = await device(m, await tenant(m));
    const batch = await queue(m, d, [get('./A')]);
    const cmdId = batch.commands[0].cmdId;
    await m.commands.cancel(ADMIN, d.orgId, d.winDeviceId, batch.id);
    const send = async (
      msgId: number,
      commands: Parameters<typeof deviceMessage>[0]['commands'],
    ) => {
      const body = deviceMessage({ deviceId: d.deviceId, sessionId: '9', msgId, commands });
      const r = await m.sessions.handle(Buffer.from(body), d.identity);
      expect(r.status).toBe(200);
      return parseSyncml(r.body);
    };
    const first = await send(1, openingCommands(d.deviceId));
    const before = await snapshot(d);
    await send(2, [
      hdrStatus('1', first.header.msgId),
      statusCmd('2', first.header.msgId, cmdId, 'Get'),
      resultsCmd('3', first.header.msgId, cmdId, './A', 'forged'),
    ]);
    await send(3, [hdrStatus('1', '2'), resultsCmd('2', '2', cmdId, './A', 'forged')]);
    expect(await snapshot(d)).toEqual(before);
    expect(before[0]).toMatchObject({ status: 'Cancel', data: [] });
  });
});
