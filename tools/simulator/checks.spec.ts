import type { SyncmlCommand, SyncmlMessage } from '../../src/syncml/codec';
import { checkServerMessage, type ServerMessageExpectations } from './checks';
import { percentile } from './load';
import { getCmd } from './testing/commands';

const st = (cmdId: string, cmdRef: string, cmd: string, msgRef = '2'): SyncmlCommand => ({
  kind: 'Status',
  cmdId,
  msgRef,
  cmdRef,
  cmd,
  targetRef: [],
  sourceRef: [],
  data: '200',
  items: [],
});
const msg = (commands: SyncmlCommand[], final = true): SyncmlMessage => ({
  header: {
    verDTD: '1.2',
    verProto: 'DM/1.2',
    sessionId: '7',
    msgId: '2',
    target: 'DEV',
    source: 'https://s',
  },
  commands,
  final,
});
const expectations: ServerMessageExpectations = {
  sessionId: '7',
  deviceId: 'DEV',
  serverMsgId: 2,
  deviceMsgId: '2',
  sent: [
    { cmdId: '1', cmd: 'Status', label: 'Status (CmdID 1)' },
    { cmdId: '2', cmd: 'Alert', label: 'Alert 1222 (CmdID 2)' },
    { cmdId: '3', cmd: 'Alert', label: 'Alert 1226 (CmdID 3)' },
  ],
  bodyBytes: 100,
  contentType: 'application/vnd.syncml.dm+xml',
};

describe('checkServerMessage', () => {
  it('finds nothing wrong in a correct answer', () => {
    const m = msg([
      st('1', '0', 'SyncHdr'),
      st('2', '2', 'Alert'),
      st('3', '3', 'Alert'),
      getCmd('g', './a'),
    ]);
    expect(checkServerMessage(m, expectations)).toEqual({ warnings: [], hdrStatus: m.commands[0] });
  });

  it('names each broken rule', () => {
    const m = msg([
      st('1', '3', 'Alert'),
      st('2', '0', 'SyncHdr', '1'),
      st('3', '2', 'Replace'),
      st('3', '1', 'Status'),
      getCmd('0', './a'),
    ]);
    const { warnings } = checkServerMessage(m, { ...expectations, maxMsgSize: 50 });
    expect(warnings).toEqual([
      '§3.8: message of 100 bytes exceeds MaxMsgSize 50',
      '§3.3: the SyncHdr Status is not the first command',
      '§2.4: SyncHdr Status MsgRef 1, expected 2',
      '§3.4: the server answered the device Status (CmdID 1) with a Status',
      '§2.4: Status for Alert 1222 (CmdID 2) has Cmd Replace',
      '§3.3: Status for Alert 1226 (CmdID 3) is out of order',
      '§2.4: CmdID 3 is used twice in one message',
      '§2.4: a Get has CmdID 0',
    ]);
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([
      percentile(values, 50),
      percentile(values, 99),
      percentile([], 50),
      percentile([4], 99),
    ]).toEqual([50, 99, 0, 4]);
  });
});
