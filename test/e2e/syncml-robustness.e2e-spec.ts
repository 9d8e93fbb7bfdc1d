import { startTestApp, TestApp } from '../support/app';
import { makeDeviceCredentials } from '../support/device-certs';
import {
  answerOf,
  commandDoc,
  deviceMessage,
  getCmd,
  Managed,
  managedDevice,
  managementCommands,
  openingCommands,
  queue,
  rawPost,
  readBatch,
  resultsCmd,
  simulate,
  statusCmd,
  storedState,
  SYNCML_TYPE,
  withoutLock,
} from '../support/syncml-device';
import { SimulatorError } from '../../tools/simulator';

const KNOWN = './Vendor/MSFT/Test/Known';

const header = (deviceId: string) =>
  `<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>9</SessionID><MsgID>1</MsgID>` +
  `<Target><LocURI>https://x/ManagementServer/MDM.svc</LocURI></Target>` +
  `<Source><LocURI>${deviceId}</LocURI></Source></SyncHdr>`;
const opening = (deviceId: string, data = 'Contoso') =>
  `<SyncML xmlns="SYNCML:SYNCML1.2">${header(deviceId)}<SyncBody>` +
  `<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>` +
  `<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source>` +
  `<Data>${data}</Data></Item></Replace><Final/></SyncBody></SyncML>`;

const laughs = (deviceId: string) => {
  const entities = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) {
    const prev = i === 1 ? 'lol' : `lol${i - 1}`;
    entities.push(`<!ENTITY lol${i} "${`&${prev};`.repeat(10)}">`);
  }
  return `<?xml version="1.0"?><!DOCTYPE SyncML [${entities.join('')}]>${opening(deviceId, '&lol9;')}`;
};

describe('SyncML sessions: identity', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename);
  });
  afterAll(() => t.close());

  /** A device with a stored session and queued commands: the state a refusal must not touch. */
  const busyDevice = async (): Promise<Managed> => {
    const d = await managedDevice(t);
    const sim = simulate(t, d);
    expect((await sim.runSession()).outcome).toBe('completed');
    sim.close();
    await queue(t, d, [getCmd(KNOWN), getCmd('./DevDetail/SwV')]);
    const s = await storedState(t, d.winDeviceId);
    expect(s.device.syncml).toEqual(expect.objectContaining({ lastMsgId: '1' }));
    expect(s.commands).toHaveLength(2);
    return d;
  };

  it("another device's certificate cannot answer this device's commands", async () => {
    const a = await managedDevice(t);
    const b = await managedDevice(t, a); // same organization
    const batch = await queue(t, a, [getCmd(KNOWN)]);
    const cmdId = batch.commands[0].cmdId;
    const simA = simulate(t, a, { behaviour: { values: { [KNOWN]: 'from A' } } });
    const dropped = await simA.runSession({ dropAnswerForMessage: 1 });
    expect(dropped.transcript.map((e) => e.cmdId)).toEqual([cmdId]);
    // The webhook relay empties the outbox whenever it runs: that is not the command's state.
    const state = async () => {
      const { outbox: _outbox, outboxAt: _outboxAt, ...rest } = await commandDoc(t, cmdId);
      return rest;
    };
    const held = await state();
    expect(held).toMatchObject({ status: 'Awaiting', statusCode: null, receivedAt: null });

    // B, with its own certificate and its own DeviceID, "answers" A's command.
    const forged = [
      statusCmd('3', '1', cmdId, 'Get', '200'),
      resultsCmd('4', '1', cmdId, KNOWN, 'forged by B'),
    ];
    const viaB = await rawPost(
      t,
      b.creds,
      deviceMessage({
        deviceId: b.deviceId,
        sessionId: '5',
        msgId: 1,
        commands: [...openingCommands(b.deviceId).slice(0, 1), ...forged],
      }),
    );
    expect(viaB.status).toBe(200);
    expect(managementCommands(answerOf(viaB))).toEqual([]);
    expect(await state()).toEqual(held);

    // B's certificate claiming to be A: refused, A untouched.
    const aBefore = withoutLock(await storedState(t, a.winDeviceId));
    const asA = await rawPost(
      t,
      b.creds,
      deviceMessage({
        deviceId: a.deviceId,
        sessionId: '6',
        msgId: 1,
        commands: [...openingCommands(a.deviceId).slice(0, 1), ...forged],
      }),
    );
    expect(asA.status).toBe(403);
    expect(withoutLock(await storedState(t, a.winDeviceId))).toEqual(aBefore);

    // A itself answers at its next session (the command is redelivered).
    const run = await simA.runSession();
    simA.close();
    expect(run.transcript.map((e) => [e.cmdId, e.answeredStatus])).toEqual([[cmdId, '200']]);
    expect((await readBatch(t, a, batch.id)).commands[0]).toMatchObject({
      status: 'Acknowledged',
      data: [{ path: KNOWN, value: 'from A' }],
    });
  });

  it('unknown certificate → 401, nothing changed', async () => {
    const d = await busyDevice();
    const before = await storedState(t, d.winDeviceId);
    // Same CA, same DeviceID, but never registered: the binding is the thumbprint.
    const stranger = await makeDeviceCredentials(d.deviceId);
    const sim = simulate(t, { ...d, creds: stranger });
    const err = await sim.runSession().catch((e: unknown) => e);
    sim.close();
    expect(err).toBeInstanceOf(SimulatorError);
    expect((err as SimulatorError).exchange?.status).toBe(401);
    expect(await storedState(t, d.winDeviceId)).toEqual(before);
  });

  it('no certificate → 401, nothing changed', async () => {
    const d = await busyDevice();
    const before = await storedState(t, d.winDeviceId);
    const r = await rawPost(t, null, opening(d.deviceId));
    expect(r.status).toBe(401);
    expect(r.body).not.toContain('SyncML');
    expect(await storedState(t, d.winDeviceId)).toEqual(before);
  });

  it('SyncHdr Source other than the certificate’s device → 403, nothing changed', async () => {
    const d = await busyDevice();
    const before = await storedState(t, d.winDeviceId);
    const sim = simulate(t, d);
    const err = await sim.runSession({ sourceOverride: 'SOMEONE-ELSE' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorError);
    expect((err as SimulatorError).exchange?.status).toBe(403);
    expect(withoutLock(await storedState(t, d.winDeviceId))).toEqual(withoutLock(before));
    // The lock was released: the real device still gets its commands.
    const run = await sim.runSession();
    sim.close();
    expect(run.transcript).toHaveLength(2);
  });
});

describe('SyncML sessions: hostile and malformed input', () => {
  let t: TestApp;
  let d: Managed;
  beforeAll(async () => {
    t = await startTestApp(__filename);
    d = await managedDevice(t);
    const sim = simulate(t, d);
    await sim.runSession();
    sim.close();
    await queue(t, d, [getCmd(KNOWN)]);
  });
  afterAll(() => t.close());

  type Refused = [name: string, body: () => string | Buffer, type: string, status: number];
  const refused: Refused[] = [
    ['malformed XML', () => opening('X').slice(0, 180), SYNCML_TYPE, 400],
    ['XML that is not SyncML', () => '<foo xmlns="SYNCML:SYNCML1.2"/>', SYNCML_TYPE, 400],
    [
      'SyncML without SyncHdr',
      () => '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody><Final/></SyncBody></SyncML>',
      SYNCML_TYPE,
      400,
    ],
    [
      'XXE (external entity)',
      () =>
        `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
        opening(d.deviceId, '&xxe;'),
      SYNCML_TYPE,
      400,
    ],
    ['billion laughs', () => laughs(d.deviceId), SYNCML_TYPE, 400],
    [
      'SyncHdr in a foreign namespace',
      () => opening(d.deviceId).replace('<SyncHdr>', '<SyncHdr xmlns="urn:other">'),
      SYNCML_TYPE,
      400,
    ],
    [
      'a command in a foreign namespace',
      () =>
        opening(d.deviceId)
          .replace('<Replace>', '<o:Replace xmlns:o="urn:other">')
          .replace('</Replace>', '</o:Replace>'),
      SYNCML_TYPE,
      400,
    ],
    ['2 MiB body', () => opening(d.deviceId, 'x'.repeat(2 * 1024 * 1024)), SYNCML_TYPE, 413],
    ['text/xml content type', () => opening(d.deviceId), 'text/xml', 415],
    ['WBXML content type', () => opening(d.deviceId), 'application/vnd.syncml.dm+wbxml', 415],
    ['JSON content type', () => JSON.stringify({ SyncML: {} }), 'application/json', 415],
  ];

  it.each(refused.map(([name, body, type, status]) => ({ name, body, type, status })))(
    '$name → HTTP $status, stored state unchanged',
    async ({ body, type, status }) => {
      const before = await storedState(t, d.winDeviceId);
      const r = await rawPost(t, d.creds, body(), type);
      expect(r.status).toBe(status);
      expect(r.body).not.toContain('root:');
      expect(r.body).not.toContain('lollol');
      expect(await storedState(t, d.winDeviceId)).toEqual(before);
    },
  );

  it('the device still gets its commands after all that', async () => {
    const sim = simulate(t, d);
    const run = await sim.runSession();
    sim.close();
    expect(run.warnings).toEqual([]);
    expect(run.transcript.map((e) => e.target)).toEqual([KNOWN]);
  });
});
