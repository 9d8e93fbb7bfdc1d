import type { WinCommand } from '../commands/commands.types';
import { measureCommand, parseSyncml, type SyncmlCommand, type SyncmlItem } from './codec';
import { toSyncmlCommand } from './command-encoding';
import {
  atomicCmdId,
  beginLarge,
  chooseDelivery,
  continueLarge,
  MIN_CHUNK_ROOM,
  type LargeDelivery,
} from './delivery-units';
import {
  device,
  firstMessage,
  fixture,
  messageInput,
  NOW,
  PLANNER_CONFIG,
  queuedCommand,
  sizeOf,
} from './fixtures/planner-fixtures';
import { chunkCommand, fitChunk } from './large-object';
import {
  afterTake,
  chooseCommands,
  composeAnswer,
  deliveryBudget,
  planMessage,
  type PlannerConfig,
} from './session-planner';
import { noteAnswers, syncHdrStatus, type SyncmlSessionState } from './session-state';

// Large objects (OMA-DM 1.2 §7) and Atomic (MS-MDM 2.2.7.3) in the planner: message in, answer out.

const CONFIG: PlannerConfig = { ...PLANNER_CONFIG, maxCommandsPerMessage: 5 };

/** The plan for the device's first message, with the session fields given. */
const first = (over: Partial<SyncmlSessionState> = {}) => firstMessage(CONFIG, over);

const command = (
  path: string,
  value = '1',
  over: Partial<WinCommand> = {},
  format: WinCommand['config']['format'] = 'int',
): WinCommand => queuedCommand({ path, action: 'Replace', value, format }, over);
const chr = (path: string, value: string, over: Partial<WinCommand> = {}) =>
  command(path, value, over, 'chr');
const atomic = (batchId: string, ...paths: string[]) =>
  paths.map((p) => command(p, '1', { batchId, atomic: true }));
const itemOf = (c: SyncmlCommand): SyncmlItem => {
  if (!('items' in c)) throw new Error(`${c.kind} has no items`);
  return c.items[0];
};

describe('fitChunk', () => {
  const VALUES: [string, string][] = [
    ['ASCII', 'abcdefghij'.repeat(300)],
    ['two-, three- and four-byte characters', 'é€😀x'.repeat(400)],
    ['characters the writer escapes', '<a x="1">&amp;</a>\r\n'.repeat(150)],
    ['a mix, ending in a surrogate pair', `${'ab€<'.repeat(333)}😀`],
  ];

  it.each(VALUES)('splits %s into maximal chunks that fit, losing nothing', (_, value) => {
    const c = chr('./Device/Vendor/MSFT/Big', value);
    for (const room of [400, 777, 1500]) {
      const parts: string[] = [];
      for (let from = 0, i = 0; from < value.length; i++) {
        const chunk = fitChunk(c, from, room);
        if (!chunk) throw new Error(`no chunk at ${from} in ${room} bytes`);
        expect(chunk.size).toBeLessThanOrEqual(room);
        expect(chunk.size).toBe(measureCommand(chunk.command));
        const item = itemOf(chunk.command);
        // Only the first chunk says the total (UTF-8 bytes of the value); all but the last MoreData.
        expect(item.meta?.size).toBe(i === 0 ? String(Buffer.byteLength(value)) : undefined);
        expect(item.moreData ?? false).toBe(!chunk.last);
        expect(item.target).toBe('./Device/Vendor/MSFT/Big');
        expect(item.meta?.format).toBe('chr');
        const data = item.data ?? '';
        // Never half a surrogate pair: every chunk is valid UTF-16, so valid UTF-8 on the wire.
        expect(Buffer.from(data, 'utf8').toString('utf8')).toBe(data);
        if (!chunk.last) {
          // Maximal: one more character would not fit.
          const cp = value.codePointAt(chunk.end)!;
          const longer = chunkCommand(c, from, chunk.end + (cp > 0xffff ? 2 : 1));
          expect(measureCommand(longer)).toBeGreaterThan(room);
        }
        parts.push(data);
        from = chunk.end;
      }
      expect(parts.join('')).toBe(value);
      expect(parts.length).toBeGreaterThan(1);
    }
  });

  it('returns the rest whole, without MoreData, when it fits; null when not one character fits', () => {
    const c = chr('./Device/Vendor/MSFT/Big', 'x'.repeat(50));
    const rest = fitChunk(c, 10, 10_000);
    expect(rest).toMatchObject({ last: true, end: 50 });
    expect(itemOf(rest!.command)).toEqual({
      target: './Device/Vendor/MSFT/Big',
      meta: { format: 'chr', type: 'text/plain' },
      data: 'x'.repeat(40),
    });
    expect(fitChunk(c, 0, 60)).toBeNull();
  });
});

describe('chooseDelivery', () => {
  it.each([
    ['everything fits', 0],
    ['the second command stops the message', 1],
    ['the first command stops the message', 2],
  ])('chooses exactly like chooseCommands for plain commands when %s', (_, cut) => {
    const cmds = [command('./A'), command('./B', 'x'.repeat(300)), command('./C')];
    const { budget } = first();
    const limit =
      cut === 0
        ? budget.limit
        : budget.used + cmds.slice(0, 2 - cut).reduce((n, c) => n + sizeOf(c), 0) + 5;
    const b = { ...budget, limit };
    expect(chooseDelivery(b, cmds, {})).toEqual(chooseCommands(b, cmds));
  });

  it('keeps a value that fits a message of its own whole (the keep-alive path, as before)', () => {
    const head = chr('./Device/Big', 'x'.repeat(3000));
    const { p, budget } = first();
    const alone = budget.envelope + measureCommand(syncHdrStatus('1')) + sizeOf(head);
    const tight = { ...budget, used: budget.used + 500, limit: alone };
    const choice = chooseDelivery(tight, [head], {});
    expect(choice).toEqual({
      take: [],
      considered: 1,
      blocked: { command: head, size: sizeOf(head) },
    });
    expect(afterTake(p, tight, choice, 0, 5, 0)).toEqual({ kind: 'answer', more: true });
  });

  it('starts a value no message can carry as a large object, filling the message', () => {
    const [a, big, b] = [command('./A'), chr('./Device/Big', 'y'.repeat(20_000)), command('./B')];
    const { p, budget } = first();
    const b8k = { ...budget, limit: 8192 };
    const choice = chooseDelivery(b8k, [a, big, b], {});
    expect(choice.take).toEqual([a, big]);
    expect(choice.started?.command).toBe(big);
    expect(b8k.used + sizeOf(a) + choice.started!.chunk.size).toBeLessThanOrEqual(8192);
    expect(8192 - (b8k.used + sizeOf(a) + choice.started!.chunk.size)).toBeLessThan(10);
    // b was weighed and did not go: the queue is not drained.
    expect(afterTake(p, b8k, choice, 2, 5, 0)).toEqual({ kind: 'answer', more: false });
    expect(p.session.drainedSeq).toBe(-1);
  });

  it.each([
    ['over the device’s MaxObjSize', { maxObjSize: 19_999 }, 'fail'],
    ['exactly its MaxObjSize', { maxObjSize: 20_000 }, 'start'],
    ['no MaxObjSize announced', {}, 'start'],
  ])('a large object %s: %s', (_, session, outcome) => {
    const big = chr('./Device/Big', 'y'.repeat(20_000));
    const { p, budget } = first();
    const choice = chooseDelivery({ ...budget, limit: 8192 }, [big], session);
    const next = afterTake(p, { ...budget, limit: 8192 }, choice, choice.take.length, 5, 0);
    expect(next.kind === 'fail' ? 'fail' : 'start').toBe(outcome);
  });

  it('starts a large object in the next message when others leave it too little room', () => {
    const [a, big] = [command('./A', 'x'.repeat(200)), chr('./Device/Big', 'y'.repeat(20_000))];
    const { budget } = first();
    const limit = budget.used + sizeOf(a) + MIN_CHUNK_ROOM - 1;
    const choice = chooseDelivery({ ...budget, limit }, [a, big], {});
    expect(choice).toEqual({ take: [a], considered: 2, wait: true });
  });

  it('takes an atomic batch as one unit, or not at all', () => {
    const before = command('./Before');
    const group = atomic('g', './Device/A', './Device/B', './Device/C');
    const after = command('./After');
    const { budget } = first();
    const atomicSize = measureCommand({
      kind: 'Atomic',
      cmdId: atomicCmdId('g'),
      commands: group.map(toSyncmlCommand),
    });
    const fits = { ...budget, limit: budget.used + sizeOf(before) + atomicSize };
    expect(chooseDelivery(fits, [before, ...group, after], {})).toEqual({
      take: [before, ...group],
      considered: 5,
      blocked: { command: after, size: sizeOf(after) },
    });
    const short = { ...fits, limit: fits.limit - 1 };
    expect(chooseDelivery(short, [before, ...group, after], {})).toEqual({
      take: [before],
      considered: 2,
      blocked: { command: group[0], size: atomicSize, group },
    });
  });

  it('fails a whole atomic batch that no message can carry', () => {
    const group = atomic('g2', './Device/A', './Device/B');
    const { p, budget } = first();
    const tiny = { ...budget, limit: budget.used + 100 };
    const choice = chooseDelivery(tiny, group, {});
    expect(choice.blocked?.group).toEqual(group);
    expect(afterTake(p, tiny, choice, 0, 5, 0)).toMatchObject({ kind: 'fail', command: group[0] });
  });

  it('leaves an atomic batch the fetch may have cut for the next message', () => {
    const head = command('./Head');
    const group = atomic('g3', './Device/A', './Device/B', './Device/C', './Device/D');
    const { budget } = first();
    // The fetch returned maxCommands (5) candidates: the batch may continue beyond them.
    const choice = chooseDelivery(budget, [head, ...group], {});
    expect(choice).toMatchObject({ take: [head], considered: 2, blocked: { group } });
  });
});

describe('a large object through the session', () => {
  /** Runs composeAnswer message after message as the shell does, the device answering 213. */
  function deliver(value: string, limit: number) {
    const big = chr(
      './Device/Vendor/MSFT/Policy/ConfigOperations/ADMXInstall/app/Policy/x',
      value,
      {
        status: 'Awaiting',
      },
    );
    const { p, budget } = first({ maxMsgSize: limit });
    const choice = chooseDelivery(budget, [big], {});
    expect(choice.started).toBeDefined();
    let large: LargeDelivery = beginLarge(p.session, choice.started!);
    let answer = composeAnswer(p, device(), [big], false, NOW, CONFIG, large);
    const messages = [answer.response];
    let session = answer.session;
    for (let msgId = 2; session.chunk; msgId++) {
      expect(session.awaiting).toEqual({ [big.cmdId]: 'Replace' });
      noteAnswers(session, [{ cmdRef: big.cmdId, msgRef: '1', cmd: 'Replace', code: '213' }]);
      expect(session.awaiting).toEqual({ [big.cmdId]: 'Replace' }); // 213 is not final
      const next = planMessage(
        messageInput({
          msg: {
            header: {
              ...fixture('first-message.xml').header,
              msgId: String(msgId),
              meta: { maxMsgSize: String(limit) },
            },
            commands: [{ kind: 'Alert', cmdId: '2', data: '1222', items: [] }],
            final: false,
          },
          requestHash: `h${msgId}`,
          session,
        }),
        CONFIG,
      );
      if (next.kind !== 'process') throw new Error(next.kind);
      expect(next.then).toBe('deliver');
      const cont = continueLarge(next.session, deliveryBudget(next, 5, CONFIG), big);
      large = cont!.large;
      answer = composeAnswer(next, device(), [], false, NOW, CONFIG, large);
      messages.push(answer.response);
      session = answer.session;
    }
    return { big, messages, session };
  }

  it.each([
    ['100 KiB of XML in 16 KiB messages', `<x a="1">${'é&€<😀>'.repeat(100 * 128)}</x>`, 16_384],
    ['a value just over one message', 'z'.repeat(5000), 4096],
  ])('delivers %s, every message within MaxMsgSize', (_, value, limit) => {
    const { big, messages, session } = deliver(value, limit);
    const parsed = messages.map((m) => parseSyncml(Buffer.from(m)));
    const chunks = parsed.map((m) => m.commands.find((c) => c.cmdId === big.cmdId)!);
    expect(messages.map((m) => Buffer.byteLength(m)).filter((n) => n > limit)).toEqual([]);
    // Only the message with the last chunk closes the package.
    expect(parsed.map((m) => m.final)).toEqual(parsed.map((_m, i) => i === parsed.length - 1));
    expect(chunks.map((c) => itemOf(c).moreData ?? false)).toEqual(
      chunks.map((_c, i) => i < chunks.length - 1),
    );
    expect(itemOf(chunks[0]).meta?.size).toBe(String(Buffer.byteLength(value)));
    expect(chunks.map((c) => itemOf(c).data).join('')).toBe(value);
    expect(session.chunk).toBeUndefined();
    // The last chunk's Status is the command's answer.
    noteAnswers(session, [{ cmdRef: big.cmdId, msgRef: '9', cmd: 'Replace', code: '200' }]);
    expect(session.awaiting).toEqual({});
  });

  it('sends queued commands after the last chunk, never between chunks', () => {
    const big = chr('./Device/Big', 'q'.repeat(3000), { status: 'Awaiting' });
    const { p, budget } = first({
      awaiting: { [big.cmdId]: 'Replace' },
      chunk: { cmdId: big.cmdId, offset: 1000 },
    });
    const cont = continueLarge(p.session, budget, big)!;
    expect(cont.large.open).toBeUndefined();
    expect(cont.budget!.used).toBe(budget.used + measureCommand(cont.large.continued!));
    const next = command('./After');
    const answer = composeAnswer(p, device(), [next], false, NOW, CONFIG, cont.large);
    const out = parseSyncml(Buffer.from(answer.response));
    expect(out.commands.slice(-2).map((c) => c.cmdId)).toEqual([big.cmdId, next.cmdId]);
    expect(out.final).toBe(true);
    expect(answer.session.chunk).toBeUndefined();
  });

  it.each([
    ['the command is no longer Awaiting from this session', null, { x: 'Replace' }],
    ['the device answered a chunk with a final error', 'same', {}],
  ])('ends the object when %s', (_, cmd, awaiting) => {
    const big = chr('./Device/Big', 'q'.repeat(3000), { status: 'Awaiting' });
    const { p, budget } = first({ awaiting, chunk: { cmdId: big.cmdId, offset: 1000 } });
    expect(continueLarge(p.session, budget, cmd === null ? null : big)).toBeNull();
    expect(p.session.chunk).toBeUndefined();
  });

  it('a new session after one that ended mid-object requeues the command and starts over', () => {
    const { session } = (() => {
      const s = first({
        awaiting: { 'b-1': 'Replace' },
        chunk: { cmdId: 'b-1', offset: 4000 },
      });
      return { session: s.p.session };
    })();
    const next = planMessage(
      messageInput({ requestHash: 'other', session: { ...session, sessionId: 'older' } }),
      CONFIG,
    );
    if (next.kind !== 'process') throw new Error(next.kind);
    expect(next.effects).toContainEqual({ kind: 'requeue' });
    expect(next.session.chunk).toBeUndefined();
  });
});

describe('atomic batches in the answer', () => {
  it('wraps an atomic batch in one Atomic and awaits each inner command', () => {
    const plain = command('./Device/P');
    const group = atomic('ab', './Device/A', './Device/B');
    const { p } = first();
    const answer = composeAnswer(p, device(), [plain, ...group], false, NOW, CONFIG);
    const out = parseSyncml(Buffer.from(answer.response));
    expect(out.commands.slice(-2)).toMatchObject([
      { kind: 'Replace', cmdId: plain.cmdId },
      {
        kind: 'Atomic',
        cmdId: 'ab-atomic',
        commands: group.map((c) => ({ kind: 'Replace', cmdId: c.cmdId })),
      },
    ]);
    expect(answer.session.awaiting).toEqual({
      [plain.cmdId]: 'Replace',
      [group[0].cmdId]: 'Replace',
      [group[1].cmdId]: 'Replace',
    });
  });
});

describe('MaxObjSize', () => {
  it('is kept from the SyncHdr Meta and carried into the next session', () => {
    const m = fixture('first-message.xml');
    const msg = { ...m, header: { ...m.header, meta: { ...m.header.meta, maxObjSize: '65536' } } };
    const p = planMessage(messageInput({ msg }), CONFIG);
    if (p.kind !== 'process') throw new Error(p.kind);
    expect(p.session.maxObjSize).toBe(65536);
  });
});

describe('the keep-alive beside a last chunk', () => {
  it('is not added: the chunk is a command the device answers', () => {
    const big = chr('./Device/Big', 'q'.repeat(3000), { status: 'Awaiting' });
    const { p, budget } = first({
      awaiting: { [big.cmdId]: 'Replace' },
      chunk: { cmdId: big.cmdId, offset: 2500 },
    });
    const cont = continueLarge(p.session, budget, big)!;
    const answer = composeAnswer(p, device(), [], true, NOW, CONFIG, cont.large);
    const out = parseSyncml(Buffer.from(answer.response));
    expect(out.commands.at(-1)).toMatchObject({ kind: 'Replace', cmdId: big.cmdId });
    expect(out.commands.some((c) => c.cmdId.startsWith('keepalive-'))).toBe(false);
  });
});
