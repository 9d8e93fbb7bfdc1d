import type { SyncmlCommand, SyncmlMessage } from '../../src/syncml/codec';
import { idCounter } from './messages';
import { CommandResponder, type Reply, type ResponderRules } from './responder';
import { addCmd, deleteCmd, execCmd, getCmd, replaceCmd } from './testing/commands';
import { DeviceTree } from './tree';

const RULES: ResponderRules = {
  unknownStatus: '404',
  readOnlyPaths: ['./DevDetail'],
  failPaths: { './Vendor/MSFT/Broken': '500' },
  execStatus: '200',
};
const A = './Vendor/MSFT/A';

function setUp(rules: Partial<ResponderRules> = {}) {
  const tree = new DeviceTree({ [`${A}/x`]: '1', './DevDetail/SwV': '10.0' }, [
    './Vendor/MSFT/Empty',
  ]);
  const responder = new CommandResponder(tree, { ...RULES, ...rules });
  const answer = (commands: SyncmlCommand[], final = true, msgId = '3') =>
    responder.answer(
      {
        header: {
          verDTD: '1.2',
          verProto: 'DM/1.2',
          sessionId: '1',
          msgId,
          target: 'D',
          source: 'S',
        },
        commands,
        final,
      } as SyncmlMessage,
      idCounter(),
    );
  return { tree, answer };
}
/** `cmdRef:cmd=code` per Status, `R(cmdRef)` per Results. */
/** One chunk of a large object for `${A}/big` (OMA-DM 1.2 §7): MoreData on all but the last. */
const chunk = (cmdId: string, data: string, more: boolean, size?: string): SyncmlCommand => ({
  kind: 'Replace',
  cmdId,
  items: [
    {
      target: `${A}/big`,
      meta: { format: 'chr', ...(size && { size }) },
      data,
      ...(more && { moreData: true }),
    },
  ],
});

const summary = (replies: Reply[]) =>
  replies.map((r) =>
    r.kind === 'Status'
      ? `${r.cmdRef}:${r.cmd}=${r.data}${r.targetRef.length ? `@${r.targetRef.join(',')}` : ''}`
      : `R(${r.cmdRef})`,
  );

describe('CommandResponder', () => {
  it('numbers its replies and points them at the server message', () => {
    const { answer } = setUp();
    const { replies } = answer([getCmd('g', `${A}/x`)], true, '7');
    expect(replies.map((r) => [r.cmdId, r.msgRef])).toEqual([
      ['1', '7'],
      ['2', '7'],
    ]);
  });

  it('applies Add, Replace, Delete and Exec to the tree with Windows codes', () => {
    const { tree, answer } = setUp();
    const { replies } = answer([
      addCmd('1', `${A}/y`, 'v'),
      addCmd('2', `${A}/y`, 'w'),
      replaceCmd('3', `${A}/x`, '2'),
      deleteCmd('4', A),
      execCmd('5', './Vendor/MSFT/RemoteWipe/doWipe'),
      replaceCmd('6', './DevDetail/SwV', 'x', 'chr'),
      execCmd('7', './Vendor/MSFT/Broken'),
      getCmd('8', `${A}/y`),
    ]);
    expect(summary(replies)).toEqual([
      '1:Add=200',
      '2:Add=418',
      '3:Replace=200',
      '4:Delete=200',
      '5:Exec=200',
      '6:Replace=405',
      '7:Exec=500',
      '8:Get=404',
    ]);
    expect(tree.exists(A)).toBe(false);
  });

  it('answers a Get with several items per item when their codes differ', () => {
    const { answer } = setUp();
    const { replies, transcript } = answer([
      getCmd('g', `${A}/x`, `${A}/nope`, './Vendor/MSFT/Empty'),
    ]);
    expect(summary(replies)).toEqual([
      `g:Get=200@${A}/x`,
      `g:Get=404@${A}/nope`,
      'g:Get=200@./Vendor/MSFT/Empty',
      'R(g)',
    ]);
    const results = replies[3];
    expect(results.kind === 'Results' && results.items).toEqual([
      { source: `${A}/x`, meta: { format: 'chr', type: 'text/plain' }, data: '1' },
      { source: './Vendor/MSFT/Empty', meta: { format: 'node' }, data: '' },
    ]);
    expect(transcript.map((e) => e.answeredStatus)).toEqual(['200', '404', '200']);
  });

  it('commits an Atomic only when every command succeeds', () => {
    const { tree, answer } = setUp();
    const ok = answer([
      { kind: 'Atomic', cmdId: 'at', commands: [replaceCmd('r', `${A}/x`, '5')] },
    ]);
    expect(summary(ok.replies)).toEqual(['at:Atomic=200', 'r:Replace=200']);
    expect(tree.read(`${A}/x`)).toMatchObject({ value: { data: '5' } });

    const failed = answer([
      {
        kind: 'Atomic',
        cmdId: 'at2',
        commands: [replaceCmd('r1', `${A}/x`, '6'), addCmd('a1', `${A}/x`, '7')],
      },
    ]);
    // §3.9: the Atomic 507, the command that had succeeded 216, the failing one its own code.
    expect(summary(failed.replies)).toEqual(['at2:Atomic=507', 'r1:Replace=216', 'a1:Add=418']);
    expect(failed.transcript.map((e) => [e.cmdId, e.answeredStatus, e.parentCmdId])).toEqual([
      ['at2', '507', undefined],
      ['r1', '216', 'at2'],
      ['a1', '418', 'at2'],
    ]);
    expect(tree.read(`${A}/x`)).toMatchObject({ value: { data: '5' } });
  });

  it('refuses Get and nested Atomic inside an Atomic (500, outer 507)', () => {
    const { answer } = setUp();
    const { replies } = answer([
      {
        kind: 'Atomic',
        cmdId: 'o',
        commands: [
          getCmd('g', `${A}/x`),
          { kind: 'Atomic', cmdId: 'i', commands: [replaceCmd('r', `${A}/x`, '9')] },
        ],
      },
    ]);
    expect(summary(replies)).toEqual([
      'o:Atomic=507',
      'g:Get=500',
      'i:Atomic=500',
      'r:Replace=500',
    ]);
  });

  it('runs a Sequence in order with a Results for its Get', () => {
    const { answer } = setUp();
    const { replies } = answer([
      {
        kind: 'Sequence',
        cmdId: 'sq',
        commands: [replaceCmd('r', `${A}/x`, '3'), getCmd('g', `${A}/x`)],
      },
    ]);
    expect(summary(replies)).toEqual(['sq:Sequence=200', 'r:Replace=200', 'g:Get=200', 'R(g)']);
    expect(replies[3].kind === 'Results' && replies[3].items[0].data).toBe('3');
  });

  it('answers Copy and unknown elements with 400, server 1222 with 200', () => {
    const { answer } = setUp();
    const { replies, hasCommands } = answer([
      { kind: 'Copy', cmdId: 'c', items: [{ target: `${A}/z`, source: `${A}/x` }] },
      { kind: 'Unsupported', element: 'Map', cmdId: 'm' },
      { kind: 'Alert', cmdId: 'al', data: '1222', items: [] },
    ]);
    expect(summary(replies)).toEqual(['c:Copy=400', 'm:Map=400', 'al:Alert=200']);
    expect(hasCommands).toBe(true);
  });

  it('collects server Statuses without answering them', () => {
    const { answer } = setUp();
    const a = answer([
      {
        kind: 'Status',
        cmdId: '1',
        msgRef: '1',
        cmdRef: '0',
        cmd: 'SyncHdr',
        targetRef: [],
        sourceRef: [],
        data: '200',
        items: [],
      },
    ]);
    expect(a).toMatchObject({
      replies: [],
      hasCommands: false,
      serverStatuses: [{ cmdRef: '0', data: '200' }],
    });
  });

  it('reassembles a large object: 213 per chunk, then the value checked against Meta/Size', () => {
    const { tree, answer } = setUp();
    expect(summary(answer([chunk('1', 'abc', true, '6')], false).replies)).toEqual([
      '1:Replace=213',
    ]);
    expect(summary(answer([chunk('2', 'def', false)]).replies)).toEqual(['2:Replace=200']);
    expect(tree.read(`${A}/big`)).toMatchObject({ value: { data: 'abcdef' } });
    answer([chunk('3', 'abc', true, '9')], false);
    expect(summary(answer([chunk('4', 'd', false)]).replies)).toEqual(['4:Replace=424']);
  });

  it('reads back what an earlier Replace or Add stored, and 404 for a path never set', () => {
    const { answer } = setUp();
    answer([replaceCmd('1', `${A}/p`, '7'), addCmd('2', `${A}/q`, '<a>&amp;</a>', 'xml')]);
    const { replies } = answer([
      getCmd('3', `${A}/p`),
      getCmd('4', `${A}/q`),
      getCmd('5', `${A}/n`),
    ]);
    expect(summary(replies)).toEqual(['3:Get=200', 'R(3)', '4:Get=200', 'R(4)', '5:Get=404']);
    const results = replies.filter((r) => r.kind === 'Results');
    expect(results.map((r) => [r.items[0].data, r.items[0].meta?.format])).toEqual([
      ['7', 'int'],
      ['<a>&amp;</a>', 'xml'],
    ]);
  });

  it('accepts writes to unreadable paths but answers their Get with 404', () => {
    const P = './Device/Vendor/MSFT/Policy/Config/X/Unreadable';
    const { tree, answer } = setUp({ unreadablePaths: [P] });
    expect(summary(answer([replaceCmd('1', P, '1')]).replies)).toEqual(['1:Replace=200']);
    expect(tree.read(P)).toMatchObject({ value: { data: '1' } });
    expect(summary(answer([getCmd('2', P)]).replies)).toEqual(['2:Get=404']);
  });

  it('refuses configured paths with their code for every verb, changing nothing', () => {
    const { tree, answer } = setUp({ failPaths: { [`${A}/x`]: '405', [`${A}/z`]: '500' } });
    const { replies } = answer([
      replaceCmd('1', `${A}/x`, '2'),
      getCmd('2', `${A}/x`),
      addCmd('3', `${A}/z`, 'v'),
    ]);
    expect(summary(replies)).toEqual(['1:Replace=405', '2:Get=405', '3:Add=500']);
    expect(tree.read(`${A}/x`)).toMatchObject({ value: { data: '1' } });
    expect(tree.exists(`${A}/z`)).toBe(false);
  });

  it('rolls an Atomic back when a configured path refuses one of its commands', () => {
    const { tree, answer } = setUp({ failPaths: { [`${A}/bad`]: '405' } });
    const { replies } = answer([
      {
        kind: 'Atomic',
        cmdId: 'at',
        commands: [
          replaceCmd('1', `${A}/x`, '9'),
          replaceCmd('2', `${A}/bad`, '1'),
          addCmd('3', `${A}/new`, 'v'),
        ],
      },
    ]);
    expect(summary(replies)).toEqual([
      'at:Atomic=507',
      '1:Replace=216',
      '2:Replace=405',
      '3:Add=216',
    ]);
    expect(tree.read(`${A}/x`)).toMatchObject({ value: { data: '1' } });
    expect(tree.exists(`${A}/new`)).toBe(false);
  });

  it('refuses an object over its MaxObjSize with 413, by Meta/Size or by its data', () => {
    const { tree, answer } = setUp({ maxObjSize: 4 });
    expect(summary(answer([chunk('1', 'ab', true, '6')], false).replies)).toEqual([
      '1:Replace=413',
    ]);
    expect(summary(answer([chunk('2', 'abcde', false)]).replies)).toEqual(['2:Replace=413']);
    expect(summary(answer([chunk('3', 'abcd', false)]).replies)).toEqual(['3:Replace=200']);
    expect(tree.read(`${A}/big`)).toMatchObject({ value: { data: 'abcd' } });
  });

  it('reassembles chunks sent under one CmdID, multi-byte characters and escapes intact', () => {
    const { tree, answer } = setUp();
    const value = 'é€😀<&>'.repeat(3);
    const parts = [value.slice(0, 5), value.slice(5, 12), value.slice(12)];
    const replies = parts.map(
      (data, i) =>
        answer(
          [
            {
              kind: 'Replace',
              cmdId: 'big',
              items: [
                {
                  target: `${A}/big`,
                  meta: {
                    format: 'chr',
                    ...(i === 0 && { size: String(Buffer.byteLength(value)) }),
                  },
                  data,
                  ...(i < 2 && { moreData: true }),
                },
              ],
            },
          ],
          i === 2,
        ).replies,
    );
    expect(replies.map(summary)).toEqual([
      ['big:Replace=213'],
      ['big:Replace=213'],
      ['big:Replace=200'],
    ]);
    expect(tree.read(`${A}/big`)).toMatchObject({ value: { data: value } });
  });
});
