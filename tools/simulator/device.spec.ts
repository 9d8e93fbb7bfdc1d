import { X509Certificate } from 'node:crypto';
import { AlertCode, AlertType, type SyncmlMessage } from '../../src/syncml/codec';
import {
  addNodeCmd as add,
  getCmd as get,
  replaceCmd as replace,
  scripted,
} from './testing/commands';
import { deviceHarness } from './testing/device-harness';
import { type FakeScript } from './testing/fake-server';
import type { SimulatedDeviceOptions } from './types';

const DEVICE = '5C9A0E3B7D214F68A1B2C3D4E5F60718';
const POLICY = './Device/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart';
const SWV = './DevDetail/SwV';
const NODE = './Vendor/MSFT/NodeCache/MS%20DM%20Server/Nodes/12';

const byKind = (msg: SyncmlMessage | undefined) => (msg?.commands ?? []).map((c) => c.kind);

describe('SimulatedDevice against a scripted HTTPS server', () => {
  const h = deviceHarness(DEVICE);
  const setUp = (script: FakeScript, extra: Partial<SimulatedDeviceOptions> = {}) =>
    h.setUp(script, (server) => ({
      serverUrl: server.origin,
      deviceId: DEVICE,
      cert: h.client().cert,
      key: h.client().key,
      ca: h.pki().caCert,
      maxMsgSize: 65536,
      devInfo: { man: 'Contoso Ltd.', mod: 'Surface Laptop 7' },
      behaviour: {
        values: { [SWV]: { data: '10.0.26100.1', format: 'chr' } },
        readOnlyPaths: ['./DevDetail'],
        existingNodes: [NODE],
      },
      ...extra,
    }));

  it('opens like Windows, answers every command in order and presents its certificate', async () => {
    const { server, device } = await setUp(
      scripted([
        [
          replace('c1', POLICY, '8'),
          replace('c2', SWV, 'x', 'chr'),
          get('c3', SWV),
          add('c4', NODE),
        ],
      ]),
    );
    const result = await device.runSession({ sessionId: '0A1' });

    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    // §1.2 / §1.3: content type, user agent, Windows' query, the client certificate.
    expect(first.method).toBe('POST');
    expect(first.url).toBe('/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA');
    expect(first.headers['content-type']).toBe('application/vnd.syncml.dm+xml');
    expect(first.headers['user-agent']).toBe('MSFT OMA DM Client/1.2.0.1');
    expect(first.peerCn).toBe(DEVICE);
    expect(first.peerCertDer?.equals(new X509Certificate(h.client().cert).raw)).toBe(true);
    expect(second.peerCn).toBe(DEVICE);

    // §3.2: package 1.
    const p1 = first.message as SyncmlMessage;
    expect(p1.header).toMatchObject({
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: '0A1',
      msgId: '1',
      target: server.url,
      source: DEVICE,
      meta: { maxMsgSize: '65536' },
    });
    expect(p1.final).toBe(true);
    expect(p1.commands).toEqual([
      { kind: 'Alert', cmdId: '1', data: AlertCode.ClientInitiatedMgmt, items: [] },
      {
        kind: 'Alert',
        cmdId: '2',
        data: AlertCode.ClientEvent,
        items: [{ meta: { type: AlertType.LoginStatus }, data: 'user' }],
      },
      {
        kind: 'Replace',
        cmdId: '3',
        items: [
          { source: './DevInfo/DevId', data: DEVICE },
          { source: './DevInfo/Man', data: 'Contoso Ltd.' },
          { source: './DevInfo/Mod', data: 'Surface Laptop 7' },
          { source: './DevInfo/DmV', data: '1.3' },
          { source: './DevInfo/Lang', data: 'en-US' },
        ],
      },
    ]);

    // §3.4: SyncHdr Status first, one Status per command in order, Results right after the Get's.
    const p3 = second.message as SyncmlMessage;
    expect(p3.header).toMatchObject({ sessionId: '0A1', msgId: '2', source: DEVICE });
    expect(p3.final).toBe(true);
    expect(byKind(p3)).toEqual(['Status', 'Status', 'Status', 'Status', 'Results', 'Status']);
    const refs = p3.commands.map((c) =>
      c.kind === 'Status' ? [c.cmdId, c.msgRef, c.cmdRef, c.cmd, c.data] : c.kind,
    );
    expect(refs).toEqual([
      ['1', '1', '0', 'SyncHdr', '200'],
      ['2', '1', 'c1', 'Replace', '200'],
      ['3', '1', 'c2', 'Replace', '405'],
      ['4', '1', 'c3', 'Get', '200'],
      'Results',
      ['6', '1', 'c4', 'Add', '418'],
    ]);
    expect(p3.commands[4]).toEqual({
      kind: 'Results',
      cmdId: '5',
      msgRef: '1',
      cmdRef: 'c3',
      cmd: 'Get',
      targetRef: [],
      sourceRef: [],
      items: [{ source: SWV, meta: { format: 'chr', type: 'text/plain' }, data: '10.0.26100.1' }],
    });

    expect(result).toMatchObject({
      deviceId: DEVICE,
      sessionId: '0A1',
      outcome: 'completed',
      warnings: [],
    });
    expect(result.transcript).toEqual([
      {
        msgId: '1',
        cmdId: 'c1',
        verb: 'Replace',
        target: POLICY,
        format: 'int',
        data: '8',
        answeredStatus: '200',
      },
      {
        msgId: '1',
        cmdId: 'c2',
        verb: 'Replace',
        target: SWV,
        format: 'chr',
        data: 'x',
        answeredStatus: '405',
      },
      {
        msgId: '1',
        cmdId: 'c3',
        verb: 'Get',
        target: SWV,
        answeredStatus: '200',
        resultValue: '10.0.26100.1',
      },
      { msgId: '1', cmdId: 'c4', verb: 'Add', target: NODE, format: 'node', answeredStatus: '418' },
    ]);
    // The server's Statuses for the device's own commands are reported.
    expect(result.serverStatuses.map((s) => `${s.msgRef}/${s.cmdRef}/${s.cmd}/${s.data}`)).toEqual([
      '1/0/SyncHdr/200',
      '1/1/Alert/200',
      '1/2/Alert/200',
      '1/3/Replace/200',
      '2/0/SyncHdr/200',
    ]);
    expect(result.exchanges.map((e) => e.status)).toEqual([200, 200]);
    expect(result.exchanges[1].requestBody).toBe(second.body);
    expect(device.tree.read(POLICY)).toEqual({
      kind: 'leaf',
      value: { data: '8', format: 'int', type: 'text/plain' },
    });
  });

  it('keeps its tree across sessions and counts SessionIDs itself', async () => {
    const { device } = await setUp(
      scripted([
        [add('a1', './Vendor/MSFT/Test/New'), get('g1', './Vendor/MSFT/Nope')],
        [get('g2', './Vendor/MSFT/Test')],
      ]),
    );
    const one = await device.runSession();
    const two = await device.runSession();
    expect(one.transcript.map((e) => e.answeredStatus)).toEqual(['200', '404', '200']);
    // OMA-PS: an interior node answers with its child names.
    expect(one.transcript[2].resultValue).toBe('New');
    expect(two.transcript[0].answeredStatus).toBe('418');
    expect(Number(two.sessionId)).toBe((Number(one.sessionId) % 255) + 1);
  });
});
