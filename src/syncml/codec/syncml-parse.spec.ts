import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlertCode, AlertType, SyncmlStatus } from './syncml.constants';
import { parseSyncml } from './syncml-parse';
import type { SyncmlCommand, SyncmlMessage } from './syncml.types';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, 'fixtures', name));
const DEVICE = '5C9A0E3B7D214F68A1B2C3D4E5F60718';
const SERVER = 'https://mdm.example.test/ManagementServer/MDM.svc';

function only<K extends SyncmlCommand['kind']>(cmd: SyncmlCommand, kind: K) {
  expect(cmd.kind).toBe(kind);
  return cmd as Extract<SyncmlCommand, { kind: K }>;
}

describe('parseSyncml: first message (package 1)', () => {
  let msg: SyncmlMessage;
  beforeAll(() => (msg = parseSyncml(fixture('first-message.xml'))));

  it('reads the header', () => {
    expect(msg.header).toEqual({
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId: '1',
      target: SERVER,
      source: DEVICE,
      meta: { maxMsgSize: '524288' },
    });
    expect(msg.final).toBe(true);
  });

  it('reads Alert 1201, Alert 1224 LoginStatus and the DevInfo Replace in order', () => {
    expect(msg.commands).toEqual([
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
  });
});

describe('parseSyncml: statuses with results', () => {
  let msg: SyncmlMessage;
  beforeAll(() => (msg = parseSyncml(fixture('statuses-results.xml'))));

  it('keeps SessionID 0012 as a string', () => {
    expect(msg.header.sessionId).toBe('0012');
    expect(msg.header.msgId).toBe('2');
  });

  it('keeps document order across kinds', () => {
    expect(msg.commands.map((c) => `${c.kind}:${c.cmdId}`)).toEqual([
      'Status:1',
      'Status:2',
      'Results:3',
      'Status:4',
      'Status:5',
      'Status:6',
      'Results:7',
      'Status:8',
    ]);
  });

  it('reads the SyncHdr status and a plain status', () => {
    expect(msg.commands[0]).toEqual({
      kind: 'Status',
      cmdId: '1',
      msgRef: '1',
      cmdRef: '0',
      cmd: 'SyncHdr',
      targetRef: [],
      sourceRef: [],
      data: SyncmlStatus.Ok,
      items: [],
    });
    expect(only(msg.commands[3], 'Status').data).toBe(SyncmlStatus.NotFound);
  });

  it('reads Results without Cmd', () => {
    expect(msg.commands[2]).toEqual({
      kind: 'Results',
      cmdId: '3',
      msgRef: '1',
      cmdRef: 'c7a1',
      targetRef: [],
      sourceRef: [],
      items: [
        {
          source: './DevDetail/SwV',
          meta: { format: 'chr', type: 'text/plain' },
          data: '10.0.22631.4602',
        },
      ],
    });
  });

  it('keeps msft:originalerror next to the status code', () => {
    const s = only(msg.commands[4], 'Status');
    expect([s.data, s.originalError, s.cmd]).toEqual(['500', '0x80070005', 'Exec']);
  });

  it('keeps Data verbatim: numeric-looking, CDATA, entities, whitespace, embedded markup', () => {
    const r = only(msg.commands[6], 'Results');
    expect(r.cmd).toBe('Get');
    expect(r.items.map((i) => i.data)).toEqual([
      '0012',
      '<wap-provisioningdoc version="1.1"><parm name="a&amp;b" value="1"/></wap-provisioningdoc>',
      `  O'Neil & Sons <Fleet> AB\n\t`,
      '<AppInventoryResults xmlns="urn:contoso:inventory"><Package Name="App &amp; Co" Version="1.0"/></AppInventoryResults>',
    ]);
    expect(r.items[0].meta).toEqual({ format: 'int' });
  });

  it('reads TargetRef lists', () => {
    expect(only(msg.commands[7], 'Status')).toMatchObject({
      cmd: 'Atomic',
      data: SyncmlStatus.AtomicFailed,
      targetRef: ['./Device/Vendor/MSFT/Policy/Config/A', './Device/Vendor/MSFT/Policy/Config/B'],
      sourceRef: [],
    });
  });
});

describe('parseSyncml: alerts', () => {
  it('reads generic alert 1226 whatever the Meta prefix or namespace spelling', () => {
    const msg = parseSyncml(fixture('generic-alert-unenroll.xml'));
    expect(msg.header.sessionId).toBe('A1F3');
    expect(msg.commands.slice(1)).toEqual([
      {
        kind: 'Alert',
        cmdId: '2',
        data: AlertCode.GenericAlert,
        items: [{ meta: { type: AlertType.UserUnenrollment, format: 'int' }, data: '1' }],
      },
      {
        kind: 'Alert',
        cmdId: '3',
        data: AlertCode.GenericAlert,
        items: [
          {
            source:
              './Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7BA1B2%7D/DownloadInstall',
            meta: {
              type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install',
              format: 'int',
              mark: 'informational',
            },
            data: '0',
          },
        ],
      },
    ]);
  });

  it('reads a 1222 continuation without Final', () => {
    const msg = parseSyncml(fixture('next-message-1222.xml'));
    expect(msg.final).toBe(false);
    expect(msg.commands[1]).toEqual({
      kind: 'Alert',
      cmdId: '2',
      data: AlertCode.NextMessage,
      items: [{ target: SERVER, source: DEVICE }],
    });
  });

  it('reads an indented 1223 abort in the 1.1 namespace, ignoring layout whitespace', () => {
    const msg = parseSyncml(fixture('abort-1223.xml'));
    expect(msg.header).toMatchObject({
      sessionId: '7',
      msgId: '5',
      target: SERVER,
      source: DEVICE,
    });
    expect(msg.final).toBe(true);
    expect(msg.commands.map((c) => [c.kind, c.cmdId])).toEqual([
      ['Status', '1'],
      ['Status', '2'],
      ['Alert', '3'],
    ]);
    expect(only(msg.commands[2], 'Alert').data).toBe(AlertCode.SessionAbort);
    expect(only(msg.commands[1], 'Status')).toMatchObject({ cmdRef: 'k9', cmd: 'Replace' });
  });
});

describe('parseSyncml: Atomic, Sequence and elements Windows does not use', () => {
  it('nests commands in order and keeps unknown elements in place', () => {
    const msg = parseSyncml(fixture('atomic-sequence.xml'));
    expect(msg.commands.map((c) => c.kind)).toEqual([
      'Status',
      'Atomic',
      'Sequence',
      'Copy',
      'Unsupported',
    ]);
    const atomic = only(msg.commands[1], 'Atomic');
    expect(atomic.commands).toEqual([
      {
        kind: 'Add',
        cmdId: 'a2',
        items: [
          { target: './Vendor/MSFT/NodeCache/MS%20DM%20Server/Nodes/12', meta: { format: 'node' } },
        ],
      },
      {
        kind: 'Replace',
        cmdId: 'a3',
        items: [
          {
            target: './Device/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart',
            meta: { format: 'int', type: 'text/plain' },
            data: '8',
          },
        ],
      },
    ]);
    const seq = only(msg.commands[2], 'Sequence');
    expect(seq.noResp).toBe(true);
    expect(seq.commands.map((c) => `${c.kind}:${c.cmdId}`)).toEqual([
      'Exec:s2',
      'Get:s3',
      'Delete:s4',
    ]);
    expect(only(msg.commands[3], 'Copy').items).toEqual([
      { target: './Vendor/MSFT/A', source: './Vendor/MSFT/B' },
    ]);
    expect(msg.commands[4]).toEqual({ kind: 'Unsupported', element: 'Put', cmdId: 'p1' });
  });
});
