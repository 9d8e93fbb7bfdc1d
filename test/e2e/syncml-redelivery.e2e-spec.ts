import { startTestApp, TestApp } from '../support/app';
import {
  answerOf,
  commandDoc,
  deviceMessage,
  getCmd,
  hdrStatus,
  ISO,
  managedDevice,
  managementCommands,
  openingCommands,
  queue,
  rawPost,
  readBatch,
  responseOf,
  resultsCmd,
  simulate,
  statusCmd,
  storedState,
  withoutLock,
} from '../support/syncml-device';
import { AlertCode, type SyncmlCommand } from '../../src/syncml/codec';

const KNOWN = './Vendor/MSFT/Test/Known';
const LEVEL = './Vendor/MSFT/Policy/Config/Test/Level';
const EXPIRED = 'ExpectedMessageNotReceivedInRequiredPeriodOfTime';
const MAX_ATTEMPTS = 2;

/** An informational generic alert: stored as a device event, so a double apply would show. */
const infoAlert = {
  code: AlertCode.GenericAlert,
  items: [
    {
      source: './Vendor/MSFT/Test/Async',
      meta: { type: 'com.example.test.info', format: 'chr', mark: 'informational' },
      data: 'done',
    },
  ],
};

describe('SyncML sessions: replay, abort and redelivery', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename, {
      SYNCML_MAX_DELIVERY_ATTEMPTS: String(MAX_ATTEMPTS),
    });
  });
  afterAll(() => t.close());

  it('answers a replayed message with the stored bytes and applies nothing twice', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [
      getCmd(KNOWN),
      { path: LEVEL, action: 'Replace', format: 'int', value: '7' },
    ]);
    const [get, replace] = b.commands.map((c) => c.cmdId);
    const pkg1 = deviceMessage({
      deviceId: d.deviceId,
      sessionId: 'F3',
      msgId: 1,
      commands: openingCommands(d.deviceId, [infoAlert]),
    });
    const a1 = await rawPost(t, d.creds, pkg1);
    expect(managementCommands(answerOf(a1)).map((c) => c.cmdId)).toEqual([get, replace]);
    const s1 = await storedState(t, d.winDeviceId);
    expect(s1.events).toHaveLength(1);
    expect(s1.commands.map((c) => [c.status, c.attempts])).toEqual([
      ['Awaiting', 1],
      ['Awaiting', 1],
    ]);

    // The response was lost: the device sends package 1 again, byte for byte.
    const a1b = await rawPost(t, d.creds, pkg1);
    expect(a1b.status).toBe(200);
    expect(a1b.body).toBe(a1.body);
    expect(withoutLock(await storedState(t, d.winDeviceId))).toEqual(withoutLock(s1));

    const reply = deviceMessage({
      deviceId: d.deviceId,
      sessionId: 'F3',
      msgId: 2,
      commands: [
        hdrStatus('1', '1'),
        statusCmd('2', '1', get, 'Get'),
        resultsCmd('3', '1', get, KNOWN, 'first'),
        statusCmd('4', '1', replace, 'Replace'),
      ],
    });
    const a2 = await rawPost(t, d.creds, reply);
    expect(managementCommands(answerOf(a2))).toEqual([]);
    const s2 = await storedState(t, d.winDeviceId);
    expect(s2.commands.map((c) => c.status)).toEqual(['Acknowledged', 'Acknowledged']);

    // More work queued meanwhile: a replay must still not deliver it (nor re-record anything).
    const more = await queue(t, d, [getCmd('./DevDetail/SwV')]);
    const s2b = await storedState(t, d.winDeviceId);
    const a2b = await rawPost(t, d.creds, reply);
    expect(a2b.body).toBe(a2.body);
    const s3 = await storedState(t, d.winDeviceId);
    expect(withoutLock(s3)).toEqual(withoutLock(s2b));
    expect(s3.commands.filter((c) => c.cmdId !== more.commands[0].cmdId)).toEqual(s2.commands);
    expect((await readBatch(t, d, b.id)).commands[0].data).toEqual([
      { path: KNOWN, format: 'chr', type: 'text/plain', value: 'first' },
    ]);
  });

  it('replays the last message of a simulated session byte for byte', async () => {
    const d = await managedDevice(t);
    await queue(t, d, [getCmd(KNOWN), getCmd('./DevDetail/SwV')]);
    const sim = simulate(t, d, { behaviour: { values: { [KNOWN]: 'x' } } });
    const run = await sim.runSession();
    expect(run.warnings).toEqual([]);
    expect(run.exchanges).toHaveLength(2);
    const before = await storedState(t, d.winDeviceId);
    const last = run.exchanges[1];
    const again = await sim.rawSend(last.requestBody);
    sim.close();
    expect(again.status).toBe(200);
    expect(again.responseBody).toBe(last.responseBody);
    expect(withoutLock(await storedState(t, d.winDeviceId))).toEqual(withoutLock(before));
  });

  it('same MsgID with another body is processed; a lower MsgID is acknowledged, not applied', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [getCmd(KNOWN), getCmd('./DevDetail/SwV')]);
    const [one, two] = b.commands.map((c) => c.cmdId);
    const send = (msgId: number, commands: SyncmlCommand[]) =>
      rawPost(
        t,
        d.creds,
        deviceMessage({ deviceId: d.deviceId, sessionId: 'C4', msgId, commands }),
      ).then(answerOf);
    const opening = openingCommands(d.deviceId);
    expect(managementCommands(await send(1, opening)).map((c) => c.cmdId)).toEqual([one, two]);
    await send(2, [hdrStatus('1', '1'), statusCmd('2', '1', one, 'Get', '404')]);
    expect((await commandDoc(t, two)).status).toBe('Awaiting');
    // §6: same key, different body → processed like a new message (idempotent transitions).
    const third = await queue(t, d, [getCmd('./Vendor/MSFT/Test/Third')]);
    const again = await send(2, [hdrStatus('1', '1'), statusCmd('2', '1', two, 'Get', '404')]);
    expect(await commandDoc(t, one)).toMatchObject({ status: 'CommandNotFound' });
    expect(await commandDoc(t, two)).toMatchObject({ status: 'CommandNotFound' });
    expect(managementCommands(again).map((c) => c.cmdId)).toEqual([third.commands[0].cmdId]);
    // §6 "Order and gaps": a MsgID below the last one is a late duplicate: Status(SyncHdr) only.
    const late = await send(1, [
      hdrStatus('1', '3'),
      statusCmd('2', '3', third.commands[0].cmdId, 'Get'),
    ]);
    expect(late.commands.map((c) => c.kind)).toEqual(['Status']);
    expect(late.final).toBe(true);
    expect(await commandDoc(t, third.commands[0].cmdId)).toMatchObject({ status: 'Awaiting' });
  });

  it('Alert 1223: commands sent in the aborted session go back to Pending and come again', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [
      getCmd(KNOWN),
      { path: LEVEL, action: 'Replace', format: 'int', value: '3' },
    ]);
    const ids = b.commands.map((c) => c.cmdId);
    const sim = simulate(t, d, { behaviour: { values: { [KNOWN]: 'v' } } });
    const aborted = await sim.runSession({ abortAfterMessages: 1 });
    expect(aborted.outcome).toBe('aborted');
    expect(aborted.warnings).toEqual([]);
    expect(aborted.transcript.map((e) => [e.cmdId, e.answeredStatus])).toEqual([
      [ids[0], undefined],
      [ids[1], undefined],
    ]);
    // The server's answer to the abort: no new commands, Final.
    const closing = responseOf(aborted.exchanges[1]);
    expect(managementCommands(closing)).toEqual([]);
    expect(closing.final).toBe(true);
    const mid = await readBatch(t, d, b.id);
    expect(mid.commands.map((c) => [c.status, c.statusCode, c.receivedAt])).toEqual([
      ['Pending', null, null],
      ['Pending', null, null],
    ]);
    for (const id of ids) expect((await commandDoc(t, id)).attempts).toBe(1);

    const next = await sim.runSession();
    sim.close();
    expect(next.outcome).toBe('completed');
    expect(next.transcript.map((e) => [e.cmdId, e.answeredStatus])).toEqual([
      [ids[0], '200'],
      [ids[1], '200'],
    ]);
    const done = await readBatch(t, d, b.id);
    expect(done.commands.map((c) => c.status)).toEqual(['Acknowledged', 'Acknowledged']);
    expect(done.commands[0].data).toEqual([
      { path: KNOWN, format: 'chr', type: 'text/plain', value: 'v' },
    ]);
    for (const id of ids) expect((await commandDoc(t, id)).attempts).toBe(2);
  });

  it('Alert 1223 with statuses: those are recorded, nothing is requeued', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [getCmd(KNOWN)]);
    const sim = simulate(t, d, { behaviour: { values: { [KNOWN]: 'kept' } } });
    const run = await sim.runSession({ abortAfterMessages: 1, abortWithStatuses: true });
    expect(run.outcome).toBe('aborted');
    expect((await readBatch(t, d, b.id)).commands[0]).toMatchObject({
      status: 'Acknowledged',
      statusCode: 200,
      data: [{ path: KNOWN, value: 'kept' }],
    });
    const next = await sim.runSession();
    sim.close();
    expect(next.transcript).toEqual([]);
    expect((await commandDoc(t, b.commands[0].cmdId)).attempts).toBe(1);
  });

  it('a dropped session: redelivered at the next session start, attempts incremented', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [getCmd(KNOWN)]);
    const id = b.commands[0].cmdId;
    const sim = simulate(t, d, { behaviour: { values: { [KNOWN]: 'late' } } });
    const dropped = await sim.runSession({ dropAnswerForMessage: 1 });
    expect(dropped.outcome).toBe('dropped');
    expect(dropped.transcript.map((e) => e.cmdId)).toEqual([id]);
    const first = await commandDoc(t, id);
    expect(first).toMatchObject({ status: 'Awaiting', attempts: 1 });

    const next = await sim.runSession();
    sim.close();
    expect(next.warnings).toEqual([]);
    expect(next.transcript.map((e) => [e.cmdId, e.answeredStatus])).toEqual([[id, '200']]);
    const second = await commandDoc(t, id);
    expect(second).toMatchObject({ status: 'Acknowledged', statusCode: '200', attempts: 2 });
    expect((second.sentAt as Date).getTime()).toBeGreaterThan((first.sentAt as Date).getTime());
  });

  it('a Status for an unknown command does not hide one left unanswered', async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [getCmd(KNOWN)]);
    const id = b.commands[0].cmdId;
    const send = (msgId: number, commands: SyncmlCommand[]) =>
      rawPost(
        t,
        d.creds,
        deviceMessage({ deviceId: d.deviceId, sessionId: 'E5', msgId, commands }),
      ).then(answerOf);
    expect(managementCommands(await send(1, openingCommands(d.deviceId)))).toHaveLength(1);
    // The device answers a command the server never sent, and the one it was sent under another
    // verb: neither is an answer to it.
    const end = await send(2, [
      hdrStatus('1', '1'),
      statusCmd('2', '1', `${id}9`, 'Get'),
      statusCmd('3', '1', id, 'Replace'),
    ]);
    expect(managementCommands(end)).toEqual([]);
    expect(await commandDoc(t, id)).toMatchObject({ status: 'Awaiting', attempts: 1 });
    // §6: at the next session start the unanswered command is redelivered.
    const sim = simulate(t, d, { behaviour: { values: { [KNOWN]: 'eventually' } } });
    const run = await sim.runSession();
    sim.close();
    expect(run.transcript.map((e) => [e.cmdId, e.answeredStatus])).toEqual([[id, '200']]);
    expect(await commandDoc(t, id)).toMatchObject({ status: 'Acknowledged', attempts: 2 });
  });

  it(`after ${MAX_ATTEMPTS} unanswered deliveries a command ends as ${EXPIRED}`, async () => {
    const d = await managedDevice(t);
    const b = await queue(t, d, [getCmd(KNOWN), getCmd('./DevDetail/SwV')]);
    const ids = b.commands.map((c) => c.cmdId);
    const sim = simulate(t, d);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const run = await sim.runSession({ dropAnswerForMessage: 1 });
      expect(run.outcome).toBe('dropped');
      expect(run.transcript.map((e) => e.cmdId)).toEqual(ids);
      for (const id of ids) {
        expect(await commandDoc(t, id)).toMatchObject({ status: 'Awaiting', attempts: attempt });
      }
    }
    const last = await sim.runSession();
    sim.close();
    expect(last.outcome).toBe('completed');
    expect(last.transcript).toEqual([]);
    const after = await readBatch(t, d, b.id);
    for (const c of after.commands) {
      expect(c).toMatchObject({ status: EXPIRED, statusCode: null });
      expect(c.receivedAt).toMatch(ISO);
    }
    for (const id of ids) expect((await commandDoc(t, id)).attempts).toBe(MAX_ATTEMPTS);
  });
});
