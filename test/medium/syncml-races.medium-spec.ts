import { Types } from 'mongoose';
import { CommandDeliveryService } from '../../src/commands/command-delivery.service';
import { CommandsRepository } from '../../src/commands/commands.repository';
import type { CommandConfig } from '../../src/commands/commands.types';
import { APP_CONFIG, type AppConfig } from '../../src/config/app-config';
import { DeviceCheckinsRepository } from '../../src/devices/device-checkins.repository';
import { WinDevicesRepository } from '../../src/devices/win-devices.repository';
import { parseSyncml, type SyncmlCommand, type SyncmlMessage } from '../../src/syncml/codec';
import { BUSY_RETRY, type BusyRetry } from '../../src/syncml/syncml-session.service';
import type { SyncmlHttpResult } from '../../src/syncml/syncml-session.types';
import { afterNextCall, beforeNextCall } from '../support/interleave';
import {
  cancelCommands,
  commandDocs,
  device,
  deviceDoc,
  deviceWithQueue,
  getConfig,
  type Medium,
  type MediumDevice,
  queue,
  startMedium,
  tenant,
} from '../support/medium';
import {
  deviceMessage,
  hdrStatus,
  managementCommands,
  openingCommands,
  resultsCmd,
  statusCmd,
} from '../support/syncml-device';

// The branches HTTP cannot time: a cancel between choosing and taking, a lost lock, a busy
// device, a crash between the queue marker and the commands.

const busy: { waits: number[]; onWait?: () => Promise<void> } = { waits: [] };
const BUSY: BusyRetry = {
  delaysMs: [1, 2],
  async wait(ms) {
    busy.waits.push(ms);
    await busy.onWait?.();
  },
};

let m: Medium;
let delivery: CommandDeliveryService;
let sid = 100;

beforeAll(async () => {
  m = await startMedium(__filename, [{ provide: BUSY_RETRY, useValue: BUSY }]);
  delivery = m.module.get(CommandDeliveryService);
});
afterAll(() => m.close());
afterEach(() => {
  jest.restoreAllMocks();
  busy.waits = [];
  busy.onWait = undefined;
});

const get = getConfig;

function send(
  d: MediumDevice,
  sessionId: string,
  msgId: number,
  commands: SyncmlCommand[],
): Promise<SyncmlHttpResult> {
  const body = deviceMessage({ deviceId: d.deviceId, sessionId, msgId, commands });
  return m.sessions.handle(Buffer.from(body), d.identity);
}

/** A new session's first message; answers 200 or throws. */
async function open(d: MediumDevice): Promise<{ sessionId: string; answer: SyncmlMessage }> {
  const sessionId = String(++sid);
  return { sessionId, answer: parsed(await send(d, sessionId, 1, openingCommands(d.deviceId))) };
}

function parsed(r: SyncmlHttpResult): SyncmlMessage {
  if (r.status !== 200) throw new Error(`${r.status}: ${r.body}`);
  return parseSyncml(r.body);
}

const sentIds = (a: SyncmlMessage) => managementCommands(a).map((c) => c.cmdId);

async function device0() {
  return device(m, await tenant(m));
}

/** The message takes the lock, as one of a session under way or after a stale lock does. */
function underLock(): void {
  jest.spyOn(m.module.get(DeviceCheckinsRepository), 'peek').mockResolvedValue(null);
}

describe('delivery races (under the lock)', () => {
  it('does not send a command cancelled between the choice and the take', async () => {
    underLock();
    const { d, batch, cmdIds } = await deviceWithQueue(m, [
      get('./DevDetail/A'),
      get('./DevDetail/B'),
    ]);
    const [first, second] = cmdIds;
    afterNextCall(delivery, 'pending', () => cancelCommands(m, d, batch.id, [first]));
    const { answer } = await open(d);
    expect(sentIds(answer)).toEqual([second]);
    const docs = await commandDocs(m, d);
    expect(docs.map((c) => [c.cmdId, c.status, c.attempts])).toEqual([
      [first, 'Cancel', 0],
      [second, 'Awaiting', 1],
    ]);
    // One was lost to the cancel: the queue is not known to be empty.
    expect((await deviceDoc(m, d))?.syncml).toMatchObject({ drainedSeq: -1 });
  });

  it('withholds the answer and returns its commands when the lock was lost meanwhile', async () => {
    underLock();
    const { d, batch } = await deviceWithQueue(m, [get('./DevDetail/A'), get('./DevDetail/B')]);
    // Another message took the lock after this one's expired.
    afterNextCall(delivery, 'take', () =>
      m.db
        .collection('win_devices')
        .updateOne({ _id: new Types.ObjectId(d.winDeviceId) }, { $set: { lockToken: 'other' } }),
    );
    const r = await send(d, String(++sid), 1, openingCommands(d.deviceId));
    expect(r).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    const docs = await commandDocs(m, d);
    expect(docs.map((c) => [c.status, c.attempts, c.sentAt, c.sessionRef])).toEqual(
      batch.commands.map(() => ['Pending', 0, null, null]),
    );
    // Nothing of that answer was saved.
    expect((await deviceDoc(m, d))?.syncml).toBeUndefined();
  });

  it('returns the taken commands and rethrows when the answer cannot be saved', async () => {
    underLock();
    const { d } = await deviceWithQueue(m, [get('./DevDetail/A')]);
    const checkins = m.module.get(DeviceCheckinsRepository);
    const release = checkins.release.bind(checkins);
    jest.spyOn(checkins, 'release').mockImplementationOnce(async (id, token, patch) => {
      if (patch) throw new Error('store gone');
      return release(id, token, patch);
    });
    await expect(send(d, String(++sid), 1, openingCommands(d.deviceId))).rejects.toThrow(
      'store gone',
    );
    const docs = await commandDocs(m, d);
    expect(docs.map((c) => [c.status, c.attempts])).toEqual([['Pending', 0]]);
  });
});

// A session start with commands queued saves its answer before it takes them (decisions.md §40).
describe('delivery races (a session start, without the lock)', () => {
  it('delivers at the next session what a crash between the save and the take left', async () => {
    const { d, cmdIds: ids } = await deviceWithQueue(m, [
      get('./DevDetail/A'),
      get('./DevDetail/B'),
    ]);
    jest.spyOn(delivery, 'take').mockRejectedValueOnce(new Error('process gone'));
    await expect(open(d)).rejects.toThrow('process gone');
    // Saved with them listed as awaiting; never taken.
    expect(Object.keys((await deviceDoc(m, d))?.syncml.awaiting ?? {})).toEqual(ids);
    expect((await commandDocs(m, d)).map((c) => [c.status, c.attempts])).toEqual([
      ['Pending', 0],
      ['Pending', 0],
    ]);
    const { answer } = await open(d);
    expect(sentIds(answer)).toEqual(ids);
    expect((await commandDocs(m, d)).map((c) => [c.status, c.attempts])).toEqual([
      ['Awaiting', 1],
      ['Awaiting', 1],
    ]);
  });

  it('takes what a crash between the save and the take left when the message comes again', async () => {
    const { d, cmdIds } = await deviceWithQueue(m, [get('./DevDetail/A')]);
    jest.spyOn(delivery, 'take').mockRejectedValueOnce(new Error('process gone'));
    const sessionId = String(++sid);
    await expect(send(d, sessionId, 1, openingCommands(d.deviceId))).rejects.toThrow(
      'process gone',
    );
    // The same message again: the saved answer is replayed, its command taken first.
    const again = await send(d, sessionId, 1, openingCommands(d.deviceId));
    expect(again.body).toBe((await deviceDoc(m, d))?.syncml.lastResponse);
    expect(sentIds(parsed(again))).toEqual(cmdIds);
    const [doc] = await commandDocs(m, d);
    expect([doc.status, doc.attempts, doc.sessionRef]).toEqual([
      'Awaiting',
      1,
      (await deviceDoc(m, d))?.syncml.sessionRef,
    ]);
  });

  it('sends and keeps the same answer when a cancel comes between the choice and the take', async () => {
    const { d, batch, cmdIds } = await deviceWithQueue(m, [
      get('./DevDetail/A'),
      get('./DevDetail/B'),
    ]);
    const [first, second] = cmdIds;
    beforeNextCall(delivery, 'take', () => cancelCommands(m, d, batch.id, [first]));
    const r = await send(d, String(++sid), 1, openingCommands(d.deviceId));
    expect(sentIds(parsed(r))).toEqual([second]);
    const saved = (await deviceDoc(m, d))?.syncml;
    // The replay record is the answer sent, and only what it carries is awaited.
    expect(saved?.lastResponse).toBe(r.body);
    expect(Object.keys(saved?.awaiting ?? {})).toEqual([second]);
    expect(saved).toMatchObject({ drainedSeq: -1 });
    expect((await commandDocs(m, d)).map((c) => [c.cmdId, c.status, c.attempts])).toEqual([
      [first, 'Cancel', 0],
      [second, 'Awaiting', 1],
    ]);
  });

  it('takes nothing and answers 503 when another message was saved after the read', async () => {
    const { d, cmdIds } = await deviceWithQueue(m, [get('./DevDetail/A')]);
    let inner = '';
    afterNextCall(m.module.get(DeviceCheckinsRepository), 'peek', async () => {
      inner = (await open(d)).sessionId;
    });
    const take = jest.spyOn(delivery, 'take');
    const r = await send(d, String(++sid), 1, openingCommands(d.deviceId));
    expect(r).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    // Only the inner message took the command; the outer one saved nothing.
    expect(take).toHaveBeenCalledTimes(1);
    expect((await deviceDoc(m, d))?.syncml).toMatchObject({ sessionId: inner });
    expect((await commandDocs(m, d)).map((c) => [c.cmdId, c.status, c.attempts])).toEqual([
      [cmdIds[0], 'Awaiting', 1],
    ]);
  });
});

describe('a busy device', () => {
  const lockBy = (d: MediumDevice, token: string | null) =>
    m.db
      .collection('win_devices')
      .updateOne(
        { _id: new Types.ObjectId(d.winDeviceId) },
        { $set: { lockToken: token, lockedUntil: token ? new Date(Date.now() + 60_000) : null } },
      );

  it('is retried, then answered 503 with Retry-After', async () => {
    const d = await device0();
    await lockBy(d, 'holder');
    const r = await send(d, String(++sid), 1, openingCommands(d.deviceId));
    expect(r).toMatchObject({ status: 503, headers: { 'Retry-After': '5' } });
    expect(busy.waits).toEqual([1, 2]);
    expect(await deviceDoc(m, d)).toMatchObject({ lockToken: 'holder' });
  });

  it('is served once the holder releases the lock during the retries', async () => {
    const d = await device0();
    await lockBy(d, 'holder');
    busy.onWait = () => lockBy(d, null).then(() => undefined);
    const { answer } = await open(d);
    expect(answer.header.msgId).toBe('1');
    expect(busy.waits).toEqual([1]);
    expect(await deviceDoc(m, d)).toMatchObject({ lockToken: null, lockedUntil: null });
  });
});

describe('statuses', () => {
  it('attaches Results that come after their Status', async () => {
    const d = await device0();
    const batch = await queue(m, d, [get('./DevDetail/SwV')]);
    const cmdId = batch.commands[0].cmdId;
    const { sessionId, answer } = await open(d);
    expect(sentIds(answer)).toEqual([cmdId]);
    const second = parsed(
      await send(d, sessionId, 2, [
        hdrStatus('1', answer.header.msgId),
        statusCmd('2', answer.header.msgId, cmdId, 'Get'),
      ]),
    );
    expect((await commandDocs(m, d))[0]).toMatchObject({ status: 'Acknowledged', data: [] });
    parsed(
      await send(d, sessionId, 3, [
        hdrStatus('1', second.header.msgId),
        resultsCmd('2', answer.header.msgId, cmdId, './DevDetail/SwV', '10.0.26100'),
      ]),
    );
    expect((await commandDocs(m, d))[0]).toMatchObject({
      status: 'Acknowledged',
      statusCode: '200',
      data: [{ path: './DevDetail/SwV', value: '10.0.26100', format: 'chr', type: 'text/plain' }],
    });
  });
});

describe('the queue marker', () => {
  const idle = async (d: MediumDevice) => expect(sentIds((await open(d)).answer)).toEqual([]);

  /** Commands written as POST writes them, with `steps` of the marker around the write. */
  async function write(d: MediumDevice, configs: CommandConfig[], steps: 'begin' | 'none') {
    const checkins = m.module.get(DeviceCheckinsRepository);
    if (steps === 'begin') await checkins.beginQueueWrite(d.winDeviceId);
    const { batch } = await m.module.get(CommandsRepository).createBatch({
      id: new Types.ObjectId().toHexString(),
      organizationId: d.orgId,
      winEnterpriseId: d.enterpriseId,
      winDeviceId: d.winDeviceId,
      mdmUserId: null,
      name: null,
      createdBy: 'admin-1',
      configs,
    });
    return batch;
  }

  it('skips the queue query of an idle check-in while the marker is unchanged', async () => {
    const d = await device0();
    await idle(d);
    const pending = jest.spyOn(delivery, 'pending');
    await idle(d);
    expect(pending).not.toHaveBeenCalled();
    expect(await deviceDoc(m, d)).toMatchObject({ queueSeq: 0, syncml: { drainedSeq: 0 } });
  });

  it('delivers commands whose writer died after writing them, before settling the marker', async () => {
    const d = await device0();
    await idle(d);
    const batch = await write(d, [get('./DevDetail/A')], 'begin');
    // The process died here: the write never settled.
    const { sessionId, answer } = await open(d);
    expect(sentIds(answer)).toEqual([`${batch.id}-0`]);
    await send(d, sessionId, 2, [
      hdrStatus('1', answer.header.msgId),
      statusCmd('2', answer.header.msgId, `${batch.id}-0`, 'Get'),
    ]);
    // And an unsettled write keeps every later check-in from trusting an empty queue.
    expect((await deviceDoc(m, d))?.queueWrites).toBe(1);
    await idle(d);
    const pending = jest.spyOn(delivery, 'pending');
    await idle(d);
    expect(pending).toHaveBeenCalledTimes(1);
  });

  it('does not trust an empty queue read while a write was in flight', async () => {
    const d = await device0();
    await idle(d);
    const checkins = m.module.get(DeviceCheckinsRepository);
    await checkins.beginQueueWrite(d.winDeviceId);
    await idle(d); // between the marker and the commands
    await write(d, [get('./DevDetail/A')], 'none');
    await checkins.settleQueueWrite(d.winDeviceId);
    const { answer } = await open(d);
    expect(managementCommands(answer)).toHaveLength(1);
  });

  it('moves the marker around a POST and leaves no write in flight', async () => {
    const d = await device0();
    await idle(d);
    await queue(m, d, [get('./DevDetail/A')]);
    expect(await deviceDoc(m, d)).toMatchObject({ queueSeq: 1, queueWrites: 0 });
    expect(managementCommands((await open(d)).answer)).toHaveLength(1);
  });
});

describe('push channel', () => {
  it('a channel WNS reported gone during a message stays forgotten when the answer is saved', async () => {
    const d = await device0();
    const channel = 'https://db5p.notify.windows.com/?token=gone';
    const readAt = new Date(Date.now() - 60_000);
    await m.db
      .collection('win_devices')
      .updateOne(
        { _id: new Types.ObjectId(d.winDeviceId) },
        { $set: { push: { channelUri: channel, status: '0', readAt } } },
      );
    const { sessionId, answer } = await open(d);
    const provider = m.module.get<AppConfig>(APP_CONFIG).enrollment.providerId;
    // A command queued meanwhile: the message reads the queue, and WNS answers 410 to its push.
    await queue(m, d, [get('./DevDetail/SwV')]);
    beforeNextCall(delivery, 'pending', () =>
      m.module.get(WinDevicesRepository).forgetChannel(d.winDeviceId, channel),
    );
    // The device answers a channel Get with its Push/Status only.
    parsed(
      await send(d, sessionId, 2, [
        hdrStatus('1', answer.header.msgId),
        statusCmd('2', answer.header.msgId, 'pushchannel-1', 'Get'),
        resultsCmd(
          '3',
          answer.header.msgId,
          'pushchannel-1',
          `./Vendor/MSFT/DMClient/Provider/${provider}/Push/Status`,
          '0',
        ),
      ]),
    );
    const push = (await deviceDoc(m, d))?.push as Record<string, unknown>;
    expect(push).not.toHaveProperty('channelUri');
    expect(push).toMatchObject({ status: '0' });
    expect(push.readAt).not.toEqual(readAt);
  });
});

describe('interim answers', () => {
  it('an Exec answered 202 in a later session is tracked, and expires at a session start past its time', async () => {
    const d = await device0();
    const batch = await queue(m, d, [
      { path: './Device/Vendor/MSFT/Reboot/RebootNow', action: 'Exec', format: 'null' },
    ]);
    const cmdId = batch.commands[0].cmdId;
    const { answer } = await open(d);
    expect(sentIds(answer)).toEqual([cmdId]);
    // The device answers only in its next session, with 202 in that session's first message.
    const later = String(++sid);
    parsed(
      await send(d, later, 1, [
        ...openingCommands(d.deviceId),
        statusCmd('9', answer.header.msgId, cmdId, 'Exec', '202'),
      ]),
    );
    expect((await commandDocs(m, d))[0]).toMatchObject({ status: 'Awaiting', statusCode: '202' });
    expect((await deviceDoc(m, d))?.syncml).toMatchObject({ interim: { [cmdId]: 'Exec' } });
    const timeout = m.module.get<AppConfig>(APP_CONFIG).syncml.asyncResultTimeoutMs;
    const body = deviceMessage({
      deviceId: d.deviceId,
      sessionId: String(++sid),
      msgId: 1,
      commands: openingCommands(d.deviceId),
    });
    parsed(
      await m.sessions.handle(
        Buffer.from(body),
        d.identity,
        new Date(Date.now() + timeout + 60_000),
      ),
    );
    expect((await commandDocs(m, d))[0]).toMatchObject({
      status: 'ExpectedMessageNotReceivedInRequiredPeriodOfTime',
    });
  });
});
