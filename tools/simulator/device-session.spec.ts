import { AlertCode, AlertType, buildSyncml, type SyncmlMessage } from '../../src/syncml/codec';
import { unenrollmentAlert } from './messages';
import { SimulatorError } from './simulator-error';
import { alertCmd, getCmd, replaceCmd, scripted } from './testing/commands';
import { deviceHarness } from './testing/device-harness';
import { serverAnswer, type FakeScript } from './testing/fake-server';
import type { SimulatedDeviceOptions } from './types';

const DEVICE = 'B1E2F3A4B5C6D7E8F9A0B1C2D3E4F5A6';
const POLICY = './Device/Vendor/MSFT/Policy/Config/Browser/AllowCookies';
const kinds = (m: SyncmlMessage | undefined) =>
  (m?.commands ?? []).map((c) => (c.kind === 'Alert' ? `Alert ${c.data}` : c.kind));

describe('SimulatedDevice session options and failures', () => {
  const h = deviceHarness(DEVICE);
  const setUp = (script: FakeScript, extra: Partial<SimulatedDeviceOptions> = {}) =>
    h.setUp(script, (server) => ({
      serverUrl: server.url,
      deviceId: DEVICE,
      cert: h.client().cert,
      key: h.client().key,
      insecure: true,
      ...extra,
    }));

  it('aborts with Alert 1223 and Final instead of answering, applying nothing', async () => {
    const { server, device } = await setUp(scripted([[replaceCmd('r1', POLICY, '1')]]));
    const result = await device.runSession({ abortAfterMessages: 1 });
    expect(result.outcome).toBe('aborted');
    const abort = server.requests[1].message;
    expect(kinds(abort)).toEqual(['Status', 'Alert 1223']);
    expect(abort?.final).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(result.transcript).toEqual([
      { msgId: '1', cmdId: 'r1', verb: 'Replace', target: POLICY, format: 'int', data: '1' },
    ]);
    expect(device.tree.read(POLICY)).toBeUndefined();
    expect(result.warnings).toEqual([]);
  });

  it('can put its Statuses in the abort message', async () => {
    const { server, device } = await setUp(scripted([[replaceCmd('r1', POLICY, '1')]]));
    await device.runSession({ abortAfterMessages: 1, abortWithStatuses: true });
    expect(kinds(server.requests[1].message)).toEqual(['Status', 'Status', 'Alert 1223']);
    expect(device.tree.read(POLICY)).toMatchObject({ kind: 'leaf' });
  });

  it('drops the session without answering', async () => {
    const { server, device } = await setUp(scripted([[getCmd('g1', './DevDetail/SwV')]]));
    const result = await device.runSession({ dropAnswerForMessage: 1 });
    expect(result.outcome).toBe('dropped');
    expect(server.requests).toHaveLength(1);
    expect(result.transcript[0].answeredStatus).toBeUndefined();
  });

  it('sends extra alerts in package 1 and a different Source when told', async () => {
    const { server, device } = await setUp(scripted([]));
    await device.runSession({ extraAlerts: [unenrollmentAlert()], sourceOverride: 'OTHER' });
    const p1 = server.requests[0].message as SyncmlMessage;
    expect(p1.header.source).toBe('OTHER');
    expect(kinds(p1)).toEqual(['Alert 1201', 'Alert 1224', 'Alert 1226', 'Replace']);
    expect(p1.commands[2]).toEqual({
      kind: 'Alert',
      cmdId: '3',
      data: AlertCode.GenericAlert,
      items: [{ meta: { type: AlertType.UserUnenrollment, format: 'int' }, data: '1' }],
    });
  });

  it('reports a non-200 answer as an http SimulatorError with the exchange', async () => {
    const { device } = await setUp(() => ({ status: 403, body: '', contentType: 'text/plain' }));
    const err = (await device.runSession().catch((e: unknown) => e)) as SimulatorError;
    expect(err).toBeInstanceOf(SimulatorError);
    expect(err.kind).toBe('http');
    expect(err.httpStatus).toBe(403);
    expect(err.partial?.exchanges).toHaveLength(1);
  });

  it('fails as rejected when the server refuses the SyncHdr', async () => {
    const { device } = await setUp((req) => {
      const body = serverAnswer(req.message as SyncmlMessage, 1, []).replace(
        '<Data>200</Data>',
        '<Data>407</Data>',
      );
      return { body };
    });
    await expect(device.runSession()).rejects.toMatchObject({ kind: 'rejected' });
  });

  it('replays exact bytes with rawSend', async () => {
    const { server, device } = await setUp(scripted([]));
    const result = await device.runSession();
    const replay = await device.rawSend(result.exchanges[0].requestBody);
    expect(replay.status).toBe(200);
    expect(server.requests[1].body).toBe(server.requests[0].body);
    expect(device.exchanges).toHaveLength(2);
  });

  it('asks for the next message (1222, no Final) while the server package is open', async () => {
    const { server, device } = await setUp(
      scripted([[replaceCmd('r1', POLICY, '1')], [getCmd('g1', POLICY)]], [1]),
    );
    const result = await device.runSession();
    const reply = server.requests[1].message;
    expect(kinds(reply)).toEqual(['Status', 'Status', 'Alert 1222']);
    expect(reply?.final).toBe(false);
    expect(server.requests[2].message?.final).toBe(true);
    expect(result.transcript.map((e) => e.resultValue)).toEqual([undefined, '1']);
    expect(result.outcome).toBe('completed');
  });

  it('stops without answering when the server aborts', async () => {
    const { server, device } = await setUp(scripted([[alertCmd('x', AlertCode.SessionAbort)]]));
    const result = await device.runSession();
    expect(result.outcome).toBe('server-aborted');
    expect(server.requests).toHaveLength(1);
  });

  it('lists the protocol rules a sloppy server breaks, and fails on them when strict', async () => {
    // Fleet-like: no Status for the device's commands, no Final, wrong SessionID.
    const sloppy: FakeScript = (req) => {
      const msg = req.message as SyncmlMessage;
      const body = buildSyncml({
        header: { sessionId: 'FF', msgId: '1', target: DEVICE, source: 'x' },
        commands: [
          {
            kind: 'Status',
            cmdId: '1',
            msgRef: msg.header.msgId,
            cmdRef: '0',
            cmd: 'SyncHdr',
            targetRef: [],
            sourceRef: [],
            data: '200',
            items: [],
          },
        ],
        final: false,
      });
      return { body, contentType: 'text/xml' };
    };
    const { device } = await setUp(sloppy);
    const result = await device.runSession();
    expect(result.warnings).toEqual([
      'server message 1: §1.4: response Content-Type is text/xml',
      expect.stringContaining('SessionID FF'),
      'server message 1: §3.3: no Status for the device Alert 1201 (CmdID 1)',
      'server message 1: §3.3: no Status for the device Alert 1224 (CmdID 2)',
      'server message 1: §3.3: no Status for the device Replace (CmdID 3)',
      'server message 1: §2.3: closing message without Final',
    ]);
    await expect(device.runSession({ strict: true })).rejects.toMatchObject({ kind: 'protocol' });
  });

  it('refuses an untrusted server certificate unless insecure', async () => {
    const { device } = await setUp(scripted([]), { insecure: false });
    await expect(device.runSession()).rejects.toMatchObject({ kind: 'transport' });
  });
});
