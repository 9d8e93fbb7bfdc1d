import type { CommandConfig } from '../../src/commands/commands.types';
import { parseSyncml } from '../../src/syncml/codec';
import { BUSY_RETRY, type BusyRetry } from '../../src/syncml/syncml-session.service';
import type { SyncmlHttpResult } from '../../src/syncml/syncml-session.types';
import {
  commandDocs,
  device,
  type Medium,
  type MediumDevice,
  queue,
  startMedium,
  tenant,
} from '../support/medium';
import { deviceMessage, managementCommands, openingCommands } from '../support/syncml-device';

// Issue 9: concurrent messages of one device — several sessions at once, and messages racing
// within them — never carry the same command in two answers.

// A busy device is retried until the holder is done: yield to the event loop, no clock.
const PATIENT: BusyRetry = {
  delaysMs: Array.from({ length: 2000 }, () => 0),
  wait: () => new Promise((r) => setImmediate(r)),
};

let m: Medium;
beforeAll(async () => {
  // One delivery per command (a requeued one expires instead of going out again) and a few
  // commands per answer, so the queue is shared out over many answers.
  m = await startMedium(__filename, [{ provide: BUSY_RETRY, useValue: PATIENT }], {
    SYNCML_MAX_DELIVERY_ATTEMPTS: '1',
    SYNCML_MAX_COMMANDS_PER_MESSAGE: '3',
  });
});
afterAll(() => m.close());

const get = (i: number): CommandConfig => ({
  path: `./Vendor/C${i}`,
  action: 'Get',
  format: 'chr',
});

function send(d: MediumDevice, sessionId: string, msgId: number): Promise<SyncmlHttpResult> {
  const body = deviceMessage({
    deviceId: d.deviceId,
    sessionId,
    msgId,
    commands: openingCommands(d.deviceId),
  });
  return m.sessions.handle(Buffer.from(body), d.identity);
}

/** The cmdIds each 200 answer carried. */
function delivered(answers: SyncmlHttpResult[]): string[][] {
  return answers
    .filter((a) => a.status === 200)
    .map((a) => managementCommands(parseSyncml(a.body)).map((c) => c.cmdId));
}

it('sends each command in exactly one answer, whatever the interleaving of sessions', async () => {
  const d = await device(m, await tenant(m));
  const batch = await queue(
    m,
    d,
    Array.from({ length: 24 }, (_, i) => get(i)),
  );
  // Two long-lived sessions, each with messages racing, and fresh sessions opening meanwhile.
  const burst = [
    ...Array.from({ length: 4 }, (_, i) => send(d, '501', i + 1)),
    ...Array.from({ length: 4 }, (_, i) => send(d, '502', i + 1)),
    ...Array.from({ length: 6 }, (_, i) => send(d, String(600 + i), 1)),
  ];
  const answers = await Promise.all(burst);
  const perAnswer = delivered(answers);
  const all = perAnswer.flat();
  // No command in two answers…
  expect(new Set(all).size).toBe(all.length);
  // …and every command the store says went out is in exactly one answer, once.
  const docs = await commandDocs(m, d);
  const sentIds = docs.filter((c) => c.sentAt !== null).map((c) => c.cmdId);
  expect(docs.every((c) => c.attempts <= 1)).toBe(true);
  expect([...all].sort()).toEqual([...sentIds].sort());
  // The queue was shared out over several answers (the race was real), in queue order overall.
  expect(perAnswer.filter((ids) => ids.length).length).toBeGreaterThan(1);
  const order = new Map(batch.commands.map((c, i) => [c.cmdId, i]));
  for (const ids of perAnswer) {
    const idx = ids.map((id) => order.get(id) ?? -1);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
  }
});
