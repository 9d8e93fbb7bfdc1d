import type { CommandStartedEvent } from 'mongodb';
import { CommandDeliveryService } from '../../src/commands/command-delivery.service';
import { DeviceCheckinsRepository } from '../../src/devices/device-checkins.repository';
import { parseSyncml, type SyncmlMessage } from '../../src/syncml/codec';
import type { SyncmlHttpResult } from '../../src/syncml/syncml-session.types';
import { afterNextCall } from '../support/interleave';
import {
  commandDocs,
  device,
  deviceDoc,
  getConfig,
  type Medium,
  type MediumDevice,
  queue,
  startMedium,
  tenant,
} from '../support/medium';
import { deviceMessage, managementCommands, openingCommands } from '../support/syncml-device';

// The idle fast path (decisions.md): a new session's first message is answered from one read of
// the device, without its lock; the queue marker read decides whether the queue must be looked at.

let m: Medium;
let sid = 500;
const started: CommandStartedEvent[] = [];

beforeAll(async () => {
  m = await startMedium(__filename, [], {}, { monitorCommands: true });
  m.db.getClient().on('commandStarted', (e: CommandStartedEvent) => started.push(e));
});
afterAll(() => m.close());
afterEach(() => jest.restoreAllMocks());

function open(d: MediumDevice): Promise<SyncmlHttpResult> {
  const body = deviceMessage({
    deviceId: d.deviceId,
    sessionId: String(++sid),
    msgId: 1,
    commands: openingCommands(d.deviceId),
  });
  return m.sessions.handle(Buffer.from(body), d.identity);
}

function parsed(r: SyncmlHttpResult): SyncmlMessage {
  if (r.status !== 200) throw new Error(`${r.status}: ${r.body}`);
  return parseSyncml(r.body);
}

const sent = async (d: MediumDevice) => managementCommands(parsed(await open(d)));

/** The driver commands one message costs, by name and collection. */
async function trips(d: MediumDevice): Promise<{ answer: SyncmlMessage; commands: string[] }> {
  started.length = 0;
  const answer = parsed(await open(d));
  const commands = started.map((e) => {
    const cmd = e.command as Record<string, unknown>;
    return `${e.commandName} ${String(cmd[e.commandName])}`;
  });
  return { answer, commands };
}

describe('round trips', () => {
  it('costs an idle check-in one read of the device and no write', async () => {
    const d = await device(m, await tenant(m));
    await open(d); // the first check-in looks at the never-drained queue
    const before = await deviceDoc(m, d);
    const { answer, commands } = await trips(d);
    expect(managementCommands(answer)).toEqual([]);
    expect(commands).toEqual(['find win_devices']);
    // Nothing moved: no lock, no session save, no lastSeenAt.
    expect(await deviceDoc(m, d)).toEqual(before);
  });

  it('costs delivering k commands at a session start 4, whatever k (no lock)', async () => {
    for (const k of [1, 5]) {
      const d = await device(m, await tenant(m));
      await open(d);
      await queue(
        m,
        d,
        Array.from({ length: k }, (_, i) => getConfig(`./DevDetail/K${i}`)),
      );
      const { answer, commands } = await trips(d);
      expect(managementCommands(answer)).toHaveLength(k);
      // The read, the queue, the answer saved, then the take (decisions.md §40).
      expect(commands).toEqual([
        'find win_devices',
        'find win_commands',
        'update win_devices',
        'update win_commands',
      ]);
    }
  });
});

describe('the lock', () => {
  /** The filters of the commands `act` started on win_devices. */
  async function deviceFilters(act: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
    started.length = 0;
    await act();
    return started
      .filter((e) => String(e.command[e.commandName]) === 'win_devices')
      .map((e) => (e.command.query ?? e.command.filter) as Record<string, unknown>);
  }
  const pushedDown = (filter: Record<string, unknown>, thumbprint: string) =>
    filter.certificateThumbprint === thumbprint || filter.renewalThumbprint === thumbprint;

  it('finds the device by one top-level equality on a certificate field (FerretDB pushes it down, §56)', async () => {
    const d = await device(m, await tenant(m));
    const repo = m.module.get(DeviceCheckinsRepository);
    const now = new Date();
    let result: Awaited<ReturnType<DeviceCheckinsRepository['acquire']>> | undefined;
    const filters = await deviceFilters(async () => {
      result = await repo.acquire(d.identity.thumbprint, now, 30_000);
    });
    expect(result?.kind).toBe('ok');
    expect(filters).toHaveLength(1);
    expect(pushedDown(filters[0], d.identity.thumbprint)).toBe(true);

    // Held: both fields tried, then the device is found (each by its equality) and is busy.
    const busy = await deviceFilters(async () => {
      result = await repo.acquire(d.identity.thumbprint, now, 30_000);
    });
    expect(result?.kind).toBe('busy');
    for (const f of busy) expect(pushedDown(f, d.identity.thumbprint)).toBe(true);

    // A renewed certificate not used yet opens the session too.
    const other = await device(m, await tenant(m));
    await m.db
      .collection('win_devices')
      .updateOne(
        { deviceId: other.deviceId },
        { $set: { certificateThumbprint: 'OLD', renewalThumbprint: other.identity.thumbprint } },
      );
    const renewed = await deviceFilters(async () => {
      result = await repo.acquire(other.identity.thumbprint, now, 30_000);
    });
    expect(result?.kind).toBe('ok');
    for (const f of renewed) expect(pushedDown(f, other.identity.thumbprint)).toBe(true);
    expect(await repo.acquire('NO-SUCH-THUMBPRINT', now, 30_000)).toEqual({ kind: 'unknown' });
  });

  it("finds an enqueue's device by its id, or its Windows device id, as top-level equalities (§56)", async () => {
    const d = await device(m, await tenant(m));
    const repo = m.module.get(DeviceCheckinsRepository);
    for (const key of [d.winDeviceId, d.deviceId]) {
      let found: { id: string } | null = null;
      const filters = await deviceFilters(async () => {
        found = await repo.beginQueueWriteIfActive(d.orgId, key);
        if (found) await repo.settleQueueWrite(found.id);
      });
      expect(found).toMatchObject({ id: d.winDeviceId });
      const lookups = filters.filter((f) => f && 'organizationId' in f);
      expect(lookups.length).toBeGreaterThan(0);
      for (const f of lookups) {
        expect(f).not.toHaveProperty('$or');
        expect(typeof (f._id ?? f.deviceId)).not.toBe('undefined');
      }
    }
    // Another organization's id finds nothing, and moves nothing.
    const other = await tenant(m);
    expect(await repo.beginQueueWriteIfActive(other.orgId, d.winDeviceId)).toBeNull();
  });
});

describe('a command queued while an idle check-in is in flight', () => {
  it('is delivered at the next session', async () => {
    const d = await device(m, await tenant(m));
    await open(d);
    let batchId = '';
    // The read saw the queue empty at its marker; the POST lands before the answer goes.
    afterNextCall(m.module.get(DeviceCheckinsRepository), 'peek', async () => {
      batchId = (await queue(m, d, [getConfig('./DevDetail/Late')])).id;
    });
    expect(await sent(d)).toEqual([]);
    expect((await sent(d)).map((c) => c.cmdId)).toEqual([`${batchId}-0`]);
    expect((await commandDocs(m, d)).map((c) => [c.status, c.attempts])).toEqual([['Awaiting', 1]]);
  });

  it('is delivered at the next session when only its marker move was seen', async () => {
    const d = await device(m, await tenant(m));
    await open(d);
    const repo = m.module.get(DeviceCheckinsRepository);
    // The marker moved before the read, the commands are written after the queue query.
    await repo.beginQueueWrite(d.winDeviceId);
    const delivery = m.module.get(CommandDeliveryService);
    const pending = jest.spyOn(delivery, 'pending');
    expect(await sent(d)).toEqual([]);
    expect(pending).toHaveBeenCalledTimes(1);
    await repo.settleQueueWrite(d.winDeviceId);
    await queue(m, d, [getConfig('./DevDetail/After')]);
    expect(await sent(d)).toHaveLength(1);
  });
});

describe('a session saved without the lock (lastSeenAt due, nothing to deliver)', () => {
  it('is withheld when another message was saved in between', async () => {
    const d = await device(m, await tenant(m));
    await open(d);
    const due = new Date(Date.now() - 3_600_000);
    await m.db
      .collection('win_devices')
      .updateOne({ deviceId: d.deviceId }, { $set: { lastSeenAt: due } });
    const repo = m.module.get(DeviceCheckinsRepository);
    // Another message of the device is processed and saved after this one's read.
    afterNextCall(repo, 'peek', async () => {
      expect((await open(d)).status).toBe(200);
    });
    const saved = jest.spyOn(repo, 'commit');
    const outer = await open(d);
    expect(outer).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    expect(saved).toHaveBeenCalledTimes(2);
    const doc = await deviceDoc(m, d);
    // The inner message (opened after the outer one) saved its session and lastSeenAt.
    expect(doc?.syncml).toMatchObject({ sessionId: String(sid) });
    expect((doc?.lastSeenAt as Date).getTime()).toBeGreaterThan(due.getTime());
  });
});
