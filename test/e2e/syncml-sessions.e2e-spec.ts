import { bearer, startTestApp, TestApp } from '../support/app';
import {
  answerOf,
  CommandInput,
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
  readDevice,
  responseOf,
  resultsCmd,
  simulate,
  statusCmd,
  storedState,
} from '../support/syncml-device';
import { commandsUrl } from '../support/seed';
import { SimulatorError, unenrollmentAlert } from '../../tools/simulator';
import { AlertCode, type SyncmlCommand } from '../../src/syncml/codec';

const KNOWN = './Vendor/MSFT/Test/Known';
// Characters XML must escape, and an entity-like sequence (xmlbuilder2 issue #117).
const KNOWN_VALUE = 'a &amp; b <c> "q" \'s\'';
const EXISTING = './Vendor/MSFT/Test/Existing';
const TO_DELETE = './Vendor/MSFT/Test/ToDelete';
const LEVEL = './Vendor/MSFT/Policy/Config/Test/Level';

/** Replace commands whose serialized size is a few hundred bytes each. */
const replaces = (n: number, tag: string): CommandInput[] =>
  Array.from({ length: n }, (_, i) => ({
    path: `./Vendor/MSFT/Policy/Config/Fill/${tag}${i}`,
    action: 'Replace',
    format: 'chr',
    value: `${tag}${i}-${'v'.repeat(150)}`,
  }));

describe('SyncML sessions: delivery and statuses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename);
  });
  afterAll(() => t.close());

  it('records every final status, code, timestamps and Get data, as the device answered', async () => {
    const d = await managedDevice(t);
    const batch = await queue(t, d, [
      getCmd(KNOWN),
      getCmd('./Vendor/MSFT/Test/Missing'),
      { path: LEVEL, action: 'Replace', format: 'int', value: '42' },
      { path: EXISTING, action: 'Add', format: 'node' },
      {
        path: './DevDetail/Ext/Microsoft/DeviceName',
        action: 'Replace',
        format: 'chr',
        value: 'X',
      },
      { path: TO_DELETE, action: 'Delete', format: 'chr' },
      { path: './Vendor/MSFT/Reboot/RebootNow', action: 'Exec', format: 'chr' },
      { path: './Vendor/MSFT/Test/CopyTarget', action: 'Copy', format: 'chr', value: KNOWN },
    ]);
    expect(batch.commands.map((c) => c.status)).toEqual(Array(8).fill('Pending'));
    const sim = simulate(t, d, {
      behaviour: {
        values: { [KNOWN]: { data: KNOWN_VALUE, format: 'chr' }, [TO_DELETE]: 'old' },
        existingNodes: [EXISTING],
      },
    });
    const before = Date.now();
    const run = await sim.runSession();
    sim.close();
    expect(run.outcome).toBe('completed');
    expect(run.warnings).toEqual([]);
    // All eight in queue order, in the server's first message.
    expect(run.transcript.map((e) => [e.msgId, e.cmdId])).toEqual(
      batch.commands.map((c) => ['1', c.cmdId]),
    );
    expect(run.transcript.map((e) => e.verb)).toEqual([
      'Get',
      'Get',
      'Replace',
      'Add',
      'Replace',
      'Delete',
      'Exec',
      'Copy',
    ]);
    // The device really ran them.
    expect(sim.tree.read(LEVEL)).toEqual({
      kind: 'leaf',
      value: { data: '42', format: 'int', type: 'text/plain' },
    });
    expect(sim.tree.exists(TO_DELETE)).toBe(false);

    const after = await readBatch(t, d, batch.id);
    const byId = new Map(after.commands.map((c) => [c.cmdId, c]));
    // REST shows exactly what the device answered, command by command.
    for (const e of run.transcript) {
      expect(byId.get(e.cmdId)?.statusCode).toBe(Number(e.answeredStatus));
    }
    expect(after.commands.map((c) => [c.status, c.statusCode])).toEqual([
      ['Acknowledged', 200],
      ['CommandNotFound', 404],
      ['Acknowledged', 200],
      ['PutOrAddCommandFailedBecauseTargetAlreadyExists', 418],
      ['MethodNotAllowed', 405],
      ['Acknowledged', 200],
      ['Acknowledged', 200],
      ['CommandFormatError', 400],
    ]);
    for (const c of after.commands) {
      expect(c.sentAt).toMatch(ISO);
      expect(c.receivedAt).toMatch(ISO);
      expect(Date.parse(c.sentAt as string)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(c.sentAt as string)).toBeLessThanOrEqual(
        Date.parse(c.receivedAt as string),
      );
      expect(c.canceledAt).toBeNull();
    }
    expect(after.commands[0].data).toEqual([
      { path: KNOWN, format: 'chr', type: 'text/plain', value: KNOWN_VALUE },
    ]);
    for (const c of after.commands.slice(1)) expect(c.data).toEqual([]);
    expect((await commandDoc(t, after.commands[0].cmdId)).attempts).toBe(1);
  });

  it('splits 30 commands over several messages within MaxMsgSize, FIFO across batches', async () => {
    const d = await managedDevice(t);
    const first = await queue(t, d, replaces(15, 'a'));
    const second = await queue(t, d, replaces(15, 'b'));
    const maxMsgSize = 4096;
    const sim = simulate(t, d, { maxMsgSize });
    const run = await sim.runSession();
    sim.close();
    expect(run.outcome).toBe('completed');
    expect(run.warnings).toEqual([]);
    expect(new Set(run.exchanges.map((x) => parseSessionId(x.requestBody)))).toEqual(
      new Set([run.sessionId]),
    );
    const sizes = run.exchanges.map((x) => Buffer.byteLength(x.responseBody, 'utf8'));
    for (const size of sizes) expect(size).toBeLessThanOrEqual(maxMsgSize);
    const messages = run.exchanges.map(responseOf);
    const counts = messages.map((m) => managementCommands(m).length);
    // Several messages carry commands, the last one none (the session ends).
    expect(counts.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
    expect(counts.at(-1)).toBe(0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    // No message left out a command it had room for.
    const commandBytes = (body: string) =>
      Math.max(...[...body.matchAll(/<Replace>[\s\S]*?<\/Replace>/g)].map((m) => m[0].length));
    const largest = Math.max(...run.exchanges.map((x) => commandBytes(x.responseBody)));
    for (let i = 0; i < counts.length - 1; i++) {
      if (counts[i + 1] > 0) expect(sizes[i] + largest).toBeGreaterThan(maxMsgSize);
    }
    // FIFO: the first batch in position order, then the second.
    const order = [...first.commands, ...second.commands].map((c) => c.cmdId);
    expect(run.transcript.map((e) => e.cmdId)).toEqual(order);
    for (const b of [first, second]) {
      const after = await readBatch(t, d, b.id);
      expect(after.commands.map((c) => c.status)).toEqual(Array(15).fill('Acknowledged'));
    }
    // Each command was sent in the message its transcript entry says (sentAt per message).
    const sentAt = new Map<string, Set<string>>();
    for (const b of [first, second]) {
      for (const c of (await readBatch(t, d, b.id)).commands) {
        const msgId = run.transcript.find((e) => e.cmdId === c.cmdId)?.msgId ?? '?';
        sentAt.set(msgId, (sentAt.get(msgId) ?? new Set()).add(c.sentAt as string));
      }
    }
    expect([...sentAt.values()].every((s) => s.size === 1)).toBe(true);
    expect(sentAt.size).toBe(counts.filter((n) => n > 0).length);
  });

  it('never sends a command cancelled before delivery', async () => {
    const d = await managedDevice(t);
    const batch = await queue(t, d, [getCmd(KNOWN), getCmd('./DevDetail/SwV'), getCmd(KNOWN)]);
    const [keep1, dropped, keep2] = batch.commands.map((c) => c.cmdId);
    const cancel = await t.http
      .post(`${commandsUrl(d)}${batch.id}/cancel`)
      .set(bearer(d.token))
      .send({ cmdIds: [dropped] });
    expect(cancel.status).toBe(200);
    const sim = simulate(t, d, { behaviour: { values: { [KNOWN]: 'k' } } });
    const run = await sim.runSession();
    expect(run.warnings).toEqual([]);
    expect(run.transcript.map((e) => e.cmdId)).toEqual([keep1, keep2]);
    expect(run.exchanges.some((x) => x.responseBody.includes(dropped))).toBe(false);
    // A later session does not send it either.
    const again = await sim.runSession();
    sim.close();
    expect(again.transcript).toEqual([]);
    const after = await readBatch(t, d, batch.id);
    const c = after.commands.find((x) => x.cmdId === dropped);
    expect(c).toMatchObject({ status: 'Cancel', statusCode: null, sentAt: null, receivedAt: null });
    expect(c?.canceledAt).toMatch(ISO);
    expect((await commandDoc(t, dropped)).attempts).toBe(0);
    expect(after.commands.filter((x) => x.cmdId !== dropped).map((x) => x.status)).toEqual([
      'Acknowledged',
      'Acknowledged',
    ]);
  });

  it('inactive device: its statuses are recorded, no new command is sent', async () => {
    const d = await managedDevice(t);
    const sent = await queue(t, d, [getCmd(KNOWN)]);
    const cmdId = sent.commands[0].cmdId;
    const m1 = answerOf(
      await rawPost(
        t,
        d.creds,
        deviceMessage({
          deviceId: d.deviceId,
          sessionId: '7',
          msgId: 1,
          commands: openingCommands(d.deviceId),
        }),
      ),
    );
    expect(managementCommands(m1).map((c) => c.cmdId)).toEqual([cmdId]);
    const later = await queue(t, d, [getCmd('./DevDetail/SwV')]);
    const off = await t.http
      .patch(`/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}`)
      .set(bearer(d.token))
      .send({ status: 'inactive' });
    expect(off.status).toBe(200);
    const reply = await rawPost(
      t,
      d.creds,
      deviceMessage({
        deviceId: d.deviceId,
        sessionId: '7',
        msgId: 2,
        commands: [
          hdrStatus('1', '1'),
          statusCmd('2', '1', cmdId, 'Get'),
          resultsCmd('3', '1', cmdId, KNOWN, 'seen while inactive'),
        ],
      }),
    );
    const m2 = answerOf(reply);
    expect(managementCommands(m2)).toEqual([]);
    expect(m2.final).toBe(true);
    expect((await readBatch(t, d, sent.id)).commands[0]).toMatchObject({
      status: 'Acknowledged',
      statusCode: 200,
      data: [{ path: KNOWN, format: 'chr', type: 'text/plain', value: 'seen while inactive' }],
    });
    // A fresh session of the inactive device gets nothing either.
    const sim = simulate(t, d);
    const run = await sim.runSession();
    sim.close();
    expect(run.transcript).toEqual([]);
    expect((await readBatch(t, d, later.id)).commands[0]).toMatchObject({
      status: 'Pending',
      sentAt: null,
    });
  });

  it('1226 user unenrollment: device unenrolled, its queue cancelled, its certificate refused', async () => {
    const d = await managedDevice(t);
    const pending = await queue(t, d, [getCmd(KNOWN), getCmd('./DevDetail/SwV')]);
    const sim = simulate(t, d);
    const run = await sim.runSession({ extraAlerts: [unenrollmentAlert()] });
    expect(run.warnings).toEqual([]);
    expect(run.transcript).toEqual([]);
    // The alert got its Status 200 (§3.6).
    const alertStatuses = run.serverStatuses.filter((s) => s.cmd === 'Alert');
    expect(alertStatuses.map((s) => s.data)).toEqual(['200', '200', '200']);
    expect(await readDevice(t, d)).toMatchObject({ status: 'unenrolled' });
    const after = await readBatch(t, d, pending.id);
    for (const c of after.commands) {
      expect(c).toMatchObject({ status: 'Cancel', sentAt: null });
      expect(c.canceledAt).toMatch(ISO);
    }
    const { events } = await storedState(t, d.winDeviceId);
    expect(events).toEqual([
      expect.objectContaining({
        alertCode: '1226',
        type: 'com.microsoft:mdm.unenrollment.userrequest',
        format: 'int',
        data: '1',
      }),
    ]);
    const next = await sim.runSession().catch((e: unknown) => e);
    sim.close();
    expect(next).toBeInstanceOf(SimulatorError);
    expect((next as SimulatorError).exchange?.status).toBe(401);
  });

  it('stores DevInfo of package 1 as the inventory and sets lastSeenAt', async () => {
    const d = await managedDevice(t);
    expect((await readDevice(t, d)).lastSeenAt).toBeUndefined();
    const sim = simulate(t, d, {
      devInfo: { man: 'Fabrikam', mod: 'Surface Test 9', dmV: '1.3', lang: 'fr-CA' },
    });
    const started = Date.now();
    const run = await sim.runSession();
    expect(run.warnings).toEqual([]);
    const device = await readDevice(t, d);
    expect(device.inventory).toEqual({
      devId: d.deviceId,
      manufacturer: 'Fabrikam',
      model: 'Surface Test 9',
      dmVersion: '1.3',
      language: 'fr-CA',
    });
    expect(device.lastSeenAt).toMatch(ISO);
    expect(Date.parse(device.lastSeenAt as string)).toBeGreaterThanOrEqual(started - 1000);

    // An idle check-in within DEVICE_LAST_SEEN_INTERVAL_SECONDS does not write lastSeenAt again.
    expect((await sim.runSession()).transcript).toEqual([]);
    expect((await readDevice(t, d)).lastSeenAt).toBe(device.lastSeenAt);
    // DevDetail values read with Get join the inventory.
    await queue(t, d, [getCmd('./DevDetail/SwV'), getCmd('./DevDetail/Ext/Microsoft/OSPlatform')]);
    expect((await sim.runSession()).transcript).toHaveLength(2);
    sim.close();
    expect((await readDevice(t, d)).inventory).toMatchObject({
      manufacturer: 'Fabrikam',
      details: {
        SwV: '10.0.26100.4652',
        'Ext/Microsoft/OSPlatform': 'Windows 11 Enterprise',
      },
    });
  });

  it('a device message without Final gets Alert 1222, no Final and no commands', async () => {
    const d = await managedDevice(t);
    const b1 = await queue(t, d, [getCmd(KNOWN)]);
    const open = openingCommands(d.deviceId);
    const send = (msgId: number, commands: SyncmlCommand[], final: boolean) =>
      rawPost(
        t,
        d.creds,
        deviceMessage({ deviceId: d.deviceId, sessionId: 'A1', msgId, commands, final }),
      ).then(answerOf);
    // Package 1 split over two messages: the first without Final.
    const m1 = await send(1, open.slice(0, 2), false);
    expect(m1.final).toBe(false);
    expect(m1.commands.map((c) => [c.kind, c.kind === 'Alert' ? c.data : c.cmdId])).toEqual([
      ['Status', '1'],
      ['Status', '2'],
      ['Status', '3'],
      ['Alert', AlertCode.NextMessage],
    ]);
    expect((await commandDoc(t, b1.commands[0].cmdId)).status).toBe('Pending');
    // The rest of package 1, with Final: now the server's package carries the command.
    const m2 = await send(2, open.slice(2), true);
    expect(m2.final).toBe(true);
    expect(managementCommands(m2).map((c) => c.cmdId)).toEqual([b1.commands[0].cmdId]);
    // Statuses spread over two device messages: the first (no Final) gets no new command.
    const b2 = await queue(t, d, [getCmd('./DevDetail/SwV')]);
    const cmdId = b1.commands[0].cmdId;
    const m3 = await send(
      3,
      [hdrStatus('1', '2'), statusCmd('2', '2', cmdId, 'Get', '404')],
      false,
    );
    expect(m3.final).toBe(false);
    expect(managementCommands(m3).map((c) => c.kind)).toEqual(['Alert']);
    expect(managementCommands(m3)[0]).toMatchObject({ data: AlertCode.NextMessage });
    expect((await commandDoc(t, cmdId)).status).toBe('CommandNotFound');
    expect((await commandDoc(t, b2.commands[0].cmdId)).status).toBe('Pending');
    const m4 = await send(4, [hdrStatus('1', '3')], true);
    expect(m4.final).toBe(true);
    expect(managementCommands(m4).map((c) => c.cmdId)).toEqual([b2.commands[0].cmdId]);
  });
});

describe('SyncML sessions: per-message command cap', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename, { SYNCML_MAX_COMMANDS_PER_MESSAGE: '4' });
  });
  afterAll(() => t.close());

  it('sends at most SYNCML_MAX_COMMANDS_PER_MESSAGE commands per message', async () => {
    const d = await managedDevice(t);
    const batch = await queue(
      t,
      d,
      Array.from({ length: 10 }, (_, i) => getCmd(`./Vendor/MSFT/Test/N${i}`)),
    );
    const sim = simulate(t, d);
    const run = await sim.runSession();
    sim.close();
    expect(run.warnings).toEqual([]);
    const counts = run.exchanges.map((x) => managementCommands(responseOf(x)).length);
    expect(counts).toEqual([4, 4, 2, 0]);
    expect(run.transcript.map((e) => e.cmdId)).toEqual(batch.commands.map((c) => c.cmdId));
    const after = await readBatch(t, d, batch.id);
    expect(after.commands.map((c) => c.status)).toEqual(Array(10).fill('CommandNotFound'));
  });
});

function parseSessionId(body: string): string {
  return /<SessionID>([^<]*)<\/SessionID>/.exec(body)?.[1] ?? '';
}
