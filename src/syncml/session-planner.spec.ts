import type { WinCommand } from '../commands/commands.types';
import {
  AlertCode,
  envelopeBytes,
  measureCommand,
  parseSyncml,
  type SyncmlCommand,
  type SyncmlMessage,
} from './codec';
import {
  asProcessing,
  device,
  DEV,
  firstMessage,
  fixture,
  messageInput,
  NOW,
  PLANNER_CONFIG as CONFIG,
  queuedCommand,
  sizeOf,
} from './fixtures/planner-fixtures';
import {
  afterTake,
  chooseCommands,
  composeAnswer,
  lockFree,
  type MessageInput,
  type MessagePlan,
  planMessage,
  type PlannerConfig,
  type Processing,
} from './session-planner';
import { syncHdrStatus, type SyncmlSessionState } from './session-state';

// Message in, plan and answer out, no database (the way nanomdm tests mdm/ from captures).

/** A fixture with header fields or commands replaced. */
function variant(
  name: string,
  header: Partial<SyncmlMessage['header']> = {},
  rest: Partial<Omit<SyncmlMessage, 'header'>> = {},
): SyncmlMessage {
  const m = fixture(name);
  return { ...m, ...rest, header: { ...m.header, ...header } };
}

let statusIds = 1;
const status = (cmdRef: string, cmd: string, data: string, msgRef = '1'): SyncmlCommand => ({
  kind: 'Status',
  cmdId: String(++statusIds),
  msgRef,
  cmdRef,
  cmd,
  targetRef: [],
  sourceRef: [],
  data,
  items: [],
});

const results = (cmdRef: string, value: string): SyncmlCommand => ({
  kind: 'Results',
  cmdId: '9',
  msgRef: '1',
  cmdRef,
  targetRef: [],
  sourceRef: [],
  items: [{ source: './DevDetail/SwV', data: value }],
});

/** A message in session `7` of the fixture device, beyond the first. */
const inSession = (msgId: string, commands: SyncmlCommand[], final = true): SyncmlMessage =>
  variant('abort-1223.xml', { msgId }, { commands, final });

function session(over: Partial<SyncmlSessionState> = {}): SyncmlSessionState {
  return {
    sessionId: '7',
    sessionRef: '7@2026-03-01T09:59:00.000Z',
    startedAt: new Date('2026-03-01T09:59:00.000Z'),
    lastMsgId: '3',
    serverMsgId: 3,
    lastRequestHash: 'h3',
    lastResponse: '<SyncML>answer to 3</SyncML>',
    awaiting: {},
    drainedSeq: -1,
    ...over,
  };
}

const plan = (over: Partial<MessageInput>): MessagePlan => planMessage(messageInput(over), CONFIG);
const processing = (over: Partial<MessageInput>): Processing => asProcessing(plan(over));

const command = (
  path: string,
  action: WinCommand['config']['action'] = 'Replace',
  value = '1',
): WinCommand => queuedCommand({ path, action, value, format: 'int' });

describe('planMessage', () => {
  it.each([
    [
      'a SyncHdr Source other than the certificate',
      { msg: variant('first-message.xml', { source: 'OTHER' }) },
      'SyncHdr Source does not match the client certificate',
    ],
    [
      'a ./DevInfo/DevId other than the certificate',
      {
        device: device({ deviceId: 'OTHER' }),
        msg: variant('first-message.xml', { source: 'OTHER' }),
      },
      './DevInfo/DevId does not match the client certificate',
    ],
  ])('refuses %s with 403', (_, input, body) => {
    expect(plan(input)).toMatchObject({ kind: 'refuse', status: 403, body });
  });

  it('answers a replayed message with the stored bytes, changing nothing', () => {
    const msg = inSession('3', []);
    const prev = session();
    const p = plan({ msg, requestHash: 'h3', session: prev });
    expect(p).toEqual({ kind: 'answer', response: prev.lastResponse, log: expect.any(String) });
    expect(prev).toEqual(session());
  });

  it('replays a session-start answer with its commands to take (saved before their take)', () => {
    const prev = session({ lastMsgId: '1', serverMsgId: 1, awaiting: { 'b-0': 'Get' } });
    const msg = variant('first-message.xml', { sessionId: '7', msgId: '1' });
    const p = plan({ msg, requestHash: 'h3', session: prev });
    expect(p).toMatchObject({
      kind: 'answer',
      response: prev.lastResponse,
      retake: { sessionRef: prev.sessionRef, cmdIds: ['b-0'] },
    });
    // A later answer was saved after its take, under the lock: nothing to take.
    const later = plan({
      msg: inSession('3', []),
      requestHash: 'h3',
      session: session({ awaiting: { 'b-0': 'Get' } }),
    });
    expect(later).toEqual({ kind: 'answer', response: prev.lastResponse, log: expect.any(String) });
  });

  it('processes the same MsgID with another body as the next message', () => {
    const p = processing({ msg: inSession('3', []), requestHash: 'other', session: session() });
    expect(p.session).toMatchObject({ lastMsgId: '3', lastRequestHash: 'other', serverMsgId: 4 });
  });

  it('acknowledges only the header of a late message, under the last server MsgID', () => {
    const p = plan({ msg: inSession('2', [status('b-1', 'Replace', '200')]), session: session() });
    if (p.kind !== 'answer') throw new Error(p.kind);
    const answer = parseSyncml(Buffer.from(p.response));
    expect(answer.header).toMatchObject({ sessionId: '7', msgId: '3', target: DEV });
    expect(answer.commands).toEqual([syncHdrStatus('2')]);
    expect(answer.final).toBe(true);
  });

  it('starts a session on package 1 and keeps what the device said of itself', () => {
    const prev = session({ drainedSeq: 4, drainedUserScope: true });
    const p = processing({ session: prev });
    expect(p.session).toMatchObject({
      sessionId: '1',
      sessionRef: `1@${NOW.toISOString()}`,
      serverMsgId: 1,
      loginStatus: 'user',
      maxMsgSize: 524288,
      drainedSeq: 4,
    });
    expect(p.effects).toEqual([]);
    expect(p.then).toBe('deliver');
    // Our Source echoes the device's Target (MS-MDM 2.2.3.4).
    expect(p.header).toEqual({
      sessionId: '1',
      msgId: '1',
      target: DEV,
      source: 'https://mdm.example.test/ManagementServer/MDM.svc',
    });
    expect(p.statuses.map((s) => (s.kind === 'Status' ? [s.cmdRef, s.data] : s.kind))).toEqual([
      ['0', '200'],
      ['1', '200'],
      ['2', '200'],
      ['3', '200'],
    ]);
  });

  it('answers from our own address when the device sent an empty Target', () => {
    const p = processing({ msg: variant('first-message.xml', { target: '' }) });
    expect(p.header.source).toBe(CONFIG.serverUrl);
  });

  it.each([
    [
      'the last session left commands unanswered',
      { session: session({ awaiting: { 'b-1': 'Get' } }) },
    ],
    ['the last lock holder never released it', { session: null, staleLock: true }],
  ])('requeues the device’s Awaiting commands when %s', (_, input) => {
    const p = processing(input);
    expect(p.effects).toEqual([{ kind: 'requeue' }]);
    expect(p.session).toMatchObject({ awaiting: {}, drainedSeq: -1 });
  });

  it('records Statuses with the Results they answer; Results for earlier Statuses go apart', () => {
    const msg = inSession('4', [
      status('b-1', 'Get', '200'),
      results('b-1', '10.0'),
      results('b-0', 'late'),
      status('b-2', 'Replace', '101'),
      status('b-3', 'Replace', '200'),
    ]);
    const prev = session({ awaiting: { 'b-1': 'Get', 'b-2': 'Replace', 'b-3': 'Exec' } });
    const p = processing({ msg, session: prev });
    expect(p.effects).toEqual([
      {
        kind: 'record-statuses',
        reports: {
          statuses: [
            { cmdRef: 'b-1', msgRef: '1', cmd: 'Get', code: '200' },
            { cmdRef: 'b-2', msgRef: '1', cmd: 'Replace', code: '101' },
            { cmdRef: 'b-3', msgRef: '1', cmd: 'Replace', code: '200' },
          ],
          results: [
            { cmdRef: 'b-1', msgRef: '1', items: [{ path: './DevDetail/SwV', value: '10.0' }] },
          ],
          receivedAt: NOW,
        },
      },
      {
        kind: 'attach-late-results',
        results: [
          { cmdRef: 'b-0', msgRef: '1', items: [{ path: './DevDetail/SwV', value: 'late' }] },
        ],
      },
    ]);
    // 101 is not final: the command waits beyond the session; a Status of another verb is no answer.
    expect(p.session.awaiting).toEqual({ 'b-3': 'Exec' });
    expect(p.session.interim).toEqual({ 'b-2': 'Replace' });
    expect(prev.awaiting).toEqual({ 'b-1': 'Get', 'b-2': 'Replace', 'b-3': 'Exec' });
    expect(p.then).toBe('deliver');
  });

  it('holds an Exec answered 202 beyond the session; checks held commands at the next start', () => {
    const prev = session({ awaiting: { 'b-1': 'Exec', 'b-2': 'Replace' } });
    const msg = inSession('4', [status('b-1', 'Exec', '202'), status('b-2', 'Replace', '202')]);
    const answered = processing({ msg, session: prev });
    // 202 ends a Replace; it holds an Exec (its outcome comes by alert, in any later session).
    expect(answered.session.awaiting).toEqual({});
    expect(answered.session.interim).toEqual({ 'b-1': 'Exec' });
    const next = processing({ session: { ...prev, interim: { 'b-1': 'Exec' }, awaiting: {} } });
    expect(next.effects).toEqual([{ kind: 'expire-interim' }]);
    expect(next.session.interim).toEqual({ 'b-1': 'Exec' });
    expect(processing({ session: { ...prev, awaiting: {} } }).effects).toEqual([]);
  });

  it('asks for the next message while the device’s package continues (no Final, no 1222)', () => {
    const p = processing({ msg: inSession('4', [], false), session: session() });
    expect(p.then).toBe('ask-next');
    const answer = parseSyncml(
      Buffer.from(composeAnswer(p, device(), [], false, NOW, CONFIG).response),
    );
    expect(answer.final).toBe(false);
    expect(answer.commands.at(-1)).toMatchObject({
      kind: 'Alert',
      cmdId: '2',
      data: AlertCode.NextMessage,
    });
  });

  it('delivers when the device asks for our next message (Alert 1222 without Final)', () => {
    const p = processing({ msg: fixture('next-message-1222.xml'), session: session() });
    expect(p.then).toBe('deliver');
    expect(p.statuses).toHaveLength(2);
  });

  it('on abort (1223) records the Status, requeues the session’s commands and answers Statuses only', () => {
    const prev = session({ lastMsgId: '4', awaiting: { k9: 'Replace', k10: 'Get' } });
    const p = processing({ msg: fixture('abort-1223.xml'), session: prev });
    expect(p.effects.map((e) => e.kind)).toEqual(['record-statuses', 'requeue']);
    expect(p.effects[1]).toEqual({ kind: 'requeue', sessionRef: prev.sessionRef });
    expect(p.session).toMatchObject({ awaiting: {}, drainedSeq: -1 });
    expect(p.then).toBe('statuses');
  });

  it('on unenroll (1226) records the alerts, then unenrolls, and delivers nothing', () => {
    const p = processing({ msg: fixture('generic-alert-unenroll.xml') });
    expect(p.effects.map((e) => e.kind)).toEqual(['record-alerts', 'async-results', 'unenroll']);
    expect(p.effects[0]).toMatchObject({ alerts: [{ alertCode: '1226' }, { alertCode: '1226' }] });
    // Only the alert naming a node may be an Exec's outcome.
    expect(p.effects[1]).toEqual({
      kind: 'async-results',
      results: [
        {
          source:
            './Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7BA1B2%7D/DownloadInstall',
          type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install',
          format: 'int',
          data: '0',
        },
      ],
    });
    expect(p.then).toBe('statuses');
  });

  it('delivers nothing to an inactive device', () => {
    expect(processing({ device: device({ active: false }) }).then).toBe('statuses');
  });
});

describe('delivery', () => {
  const first = (over: Partial<SyncmlSessionState> = {}, mark: number | null = 5) =>
    firstMessage(CONFIG, over, mark);

  it.each([
    ['the queue was found empty at this marker', { drainedSeq: 5 }, 5, true],
    ['the marker moved', { drainedSeq: 4 }, 5, false],
    ['a command write is in flight', { drainedSeq: 5 }, null, false],
    [
      'user-scope commands were held back and the user is back',
      { drainedSeq: 5, drainedUserScope: false },
      5,
      false,
    ],
    [
      'user-scope commands were held back and still are',
      { drainedSeq: 5, drainedUserScope: false, loginStatus: 'others' },
      5,
      true,
    ],
  ])('skips the queue query when %s: %s', (_, over, mark, skip) => {
    expect(first(over, mark).budget.skip).toBe(skip);
  });

  it.each([
    [undefined, true],
    ['user', true],
    ['others', false],
    ['none', false],
  ])('LoginStatus %s → user-scope commands: %s', (loginStatus, userScope) => {
    expect(first({ loginStatus }).budget.userScope).toBe(userScope);
  });

  it('uses the device’s MaxMsgSize, or the default when it sent none', () => {
    expect(first().budget.limit).toBe(524288);
    expect(first({ maxMsgSize: undefined }).budget.limit).toBe(CONFIG.defaultMaxMsgSize);
    const { p, budget } = first();
    expect(budget.envelope).toBe(envelopeBytes(p.header, true));
    expect(budget.used).toBe(
      budget.envelope + p.statuses.reduce((n, s) => n + measureCommand(s), 0),
    );
  });

  it('takes FIFO up to MaxMsgSize: a command that fits to the byte goes, one byte more stops', () => {
    const [a, b, c] = [command('./A'), command('./B'), command('./C')];
    const { budget } = first();
    const exact = { ...budget, limit: budget.used + sizeOf(a) + sizeOf(b) };
    expect(chooseCommands(exact, [a, b, c])).toEqual({
      take: [a, b],
      considered: 3,
      blocked: { command: c, size: sizeOf(c) },
    });
    const short = { ...exact, limit: exact.limit - 1 };
    expect(chooseCommands(short, [a, b, c])).toMatchObject({
      take: [a],
      considered: 2,
      blocked: { command: b },
    });
  });

  it('never lets a small command overtake one that did not fit', () => {
    const big = command('./Big', 'Replace', 'x'.repeat(500));
    const small = command('./S');
    const { budget } = first();
    const limit = { ...budget, limit: budget.used + sizeOf(small) + 10 };
    expect(chooseCommands(limit, [big, small]).take).toEqual([]);
  });

  it('caps the commands per message, and a full message does not count as drained', () => {
    const cmds = [1, 2, 3, 4].map((i) => command(`./N${i}`));
    const { p, budget } = first();
    const choice = chooseCommands(budget, cmds);
    expect(choice).toEqual({ take: cmds.slice(0, 3), considered: 3 });
    expect(afterTake(p, budget, choice, 3, 5, 0)).toEqual({ kind: 'answer', more: false });
    expect(p.session.drainedSeq).toBe(-1);
  });

  it.each([
    ['everything waiting went', 2, 5, 5],
    ['a command changed before it was taken (cancel)', 1, 5, -1],
    ['a command write was in flight', 2, null, -1],
  ])('marks the queue drained only when %s', (_, sent, mark, drainedSeq) => {
    const cmds = [command('./A'), command('./B')];
    const { p, budget } = first({}, mark);
    expect(afterTake(p, budget, chooseCommands(budget, cmds), sent, mark, 0)).toEqual({
      kind: 'answer',
      more: false,
    });
    expect(p.session).toMatchObject({ drainedSeq, drainedUserScope: true });
  });

  it('keeps the session alive when the head fits only a message of its own', () => {
    const head = command('./Big', 'Replace', 'x'.repeat(200));
    const { p, budget } = first();
    const alone = budget.envelope + measureCommand(syncHdrStatus('1')) + sizeOf(head);
    const tight = { ...budget, limit: alone };
    const choice = chooseCommands(tight, [head]);
    expect(choice.take).toEqual([]);
    expect(afterTake(p, tight, choice, 0, 5, 0)).toEqual({ kind: 'answer', more: true });

    const answer = composeAnswer(p, device(), [], true, NOW, CONFIG);
    const out = parseSyncml(Buffer.from(answer.response));
    expect(out.commands.at(-1)).toMatchObject({ kind: 'Get', cmdId: 'keepalive-1' });
    expect(out.final).toBe(true);
  });

  it('fails a command no message can carry, retrying twice, then answers with a keep-alive', () => {
    const head = command('./Huge', 'Replace', 'x'.repeat(300));
    const { p, budget } = first();
    const alone = budget.envelope + measureCommand(syncHdrStatus('1')) + sizeOf(head);
    const tiny = { ...budget, limit: alone - 1 };
    const choice = chooseCommands(tiny, [head]);
    const why = `${alone} bytes > MaxMsgSize ${alone - 1}`;
    expect(afterTake(p, tiny, choice, 0, 5, 0)).toEqual({
      kind: 'fail',
      command: head,
      why,
      retry: true,
    });
    expect(afterTake(p, tiny, choice, 0, 5, 1)).toMatchObject({ kind: 'fail', retry: true });
    expect(afterTake(p, tiny, choice, 0, 5, 2)).toMatchObject({ kind: 'fail', retry: false });
  });

  it('answers with what was taken even when the next command does not fit', () => {
    const [a, b] = [command('./A'), command('./B', 'Replace', 'x'.repeat(400))];
    const { p, budget } = first();
    const choice = chooseCommands({ ...budget, limit: budget.used + sizeOf(a) }, [a, b]);
    expect(afterTake(p, budget, choice, 1, 5, 0)).toEqual({ kind: 'answer', more: false });
  });
});

describe('composeAnswer', () => {
  it('sends the taken commands after the Statuses and awaits their answers', () => {
    const p = processing({ session: null });
    const sent = [command('./Device/A'), command('./DevDetail/SwV', 'Get')];
    const answer = composeAnswer(p, device(), sent, false, NOW, CONFIG);
    const out = parseSyncml(Buffer.from(answer.response));
    expect(out.commands.map((c) => c.cmdId)).toEqual([
      '1',
      '2',
      '3',
      '4',
      ...sent.map((c) => c.cmdId),
    ]);
    expect(out.final).toBe(true);
    expect(answer.session.awaiting).toEqual({ [sent[0].cmdId]: 'Replace', [sent[1].cmdId]: 'Get' });
    expect(answer.session.lastResponse).toBe(answer.response);
  });

  it.each([
    ['never seen', undefined, undefined, NOW],
    ['seen within the interval, nothing new', new Date(NOW.getTime() - 1000), 'same', undefined],
    ['seen within the interval, inventory changed', new Date(NOW.getTime() - 1000), 'changed', NOW],
    ['seen an interval ago', new Date(NOW.getTime() - CONFIG.lastSeenIntervalMs), 'same', NOW],
  ])('lastSeenAt when %s', (_, lastSeenAt, inv, expected) => {
    const p = processing({ session: null });
    const same = {
      devId: DEV,
      manufacturer: 'Contoso Ltd.',
      model: 'Surface Laptop 7',
      dmVersion: '1.3',
      language: 'en-US',
    };
    const inventory =
      inv === 'same' ? same : inv === 'changed' ? { ...same, model: 'old' } : undefined;
    const answer = composeAnswer(p, device({ lastSeenAt, inventory }), [], false, NOW, CONFIG);
    expect(answer.lastSeenAt).toEqual(expected);
    expect(answer.inventory === undefined).toBe(inv === 'same');
  });
});

describe('the server’s own commands (channel Get, Unenroll Exec)', () => {
  const PUSH: PlannerConfig = {
    ...CONFIG,
    providerId: 'mullion',
    pushChannel: { refreshMs: 86_400_000 },
  };
  const CHANNEL = 'https://wns.example.test/channel/1';
  const fresh = { channelUri: CHANNEL, status: '0', readAt: new Date(NOW.getTime() - 1000) };
  const pushPlan = (over: Partial<MessageInput>): Processing =>
    asProcessing(planMessage(messageInput(over), PUSH));
  const verbs = (p: Processing) => p.extra.map((c) => `${c.kind} ${c.cmdId}`);

  it.each([
    ['never read', undefined, ['Get pushchannel-1']],
    ['read a moment ago', fresh, []],
    [
      'read a day ago',
      { ...fresh, readAt: new Date(NOW.getTime() - 86_400_000) },
      ['Get pushchannel-1'],
    ],
    // WNS said the channel is gone (forgetChannel): read it again at once, not a day later.
    [
      'forgotten a moment after it was read',
      { status: '0', readAt: fresh.readAt },
      ['Get pushchannel-1'],
    ],
  ])('reads the channel when it was %s', (_, push, expected) => {
    expect(verbs(pushPlan({ device: device({ push }) }))).toEqual(expected);
  });

  it.each([
    ['the device', { active: true, unenrolling: false }, ['Get pushchannel-2']],
    ['an unenrolling device', { active: false, unenrolling: true }, ['Exec unenroll-2']],
  ])(
    'go to %s in the first answer that is not ask-next when package 1 spans messages',
    (_, facts, expected) => {
      const first = variant('first-message.xml', {}, { final: false });
      const p1 = pushPlan({ msg: first, device: device(facts) });
      expect(p1.then).toBe('ask-next');
      expect(p1.extra).toEqual([]);
      const a1 = composeAnswer(p1, device(facts), [], false, NOW, PUSH);
      const p2 = pushPlan({
        msg: inSession('2', [], true),
        requestHash: 'h2',
        session: { ...a1.session, sessionId: '7' },
        device: device(facts),
      });
      expect(p2.then).not.toBe('ask-next');
      expect(verbs(p2)).toEqual(expected);
      // Once per session: the next message of the same session carries none.
      const a2 = composeAnswer(p2, device(facts), [], false, NOW, PUSH);
      const p3 = pushPlan({
        msg: inSession('3', [], true),
        requestHash: 'h3',
        session: a2.session,
        device: device(facts),
      });
      expect(p3.extra).toEqual([]);
    },
  );

  const node = (name: string) => `./Vendor/MSFT/DMClient/Provider/mullion/Push/${name}`;
  const pushResults = (items: [string, string][]): SyncmlCommand => ({
    kind: 'Results',
    cmdId: '9',
    msgRef: '1',
    cmdRef: 'pushchannel-1',
    targetRef: [],
    sourceRef: [],
    items: items.map(([name, data]) => ({ source: node(name), data })),
  });
  it.each([
    [
      'a new channel and its status',
      [
        status('pushchannel-1', 'Get', '200'),
        pushResults([
          ['ChannelURI', CHANNEL + '2'],
          ['Status', '0'],
        ]),
      ],
      { channelUri: CHANNEL + '2', status: '0', readAt: NOW },
    ],
    [
      // Only what the device reported: the channel read at lock time is not written back over a
      // concurrent forgetChannel.
      'only its status',
      [status('pushchannel-1', 'Get', '200'), pushResults([['Status', '0']])],
      { status: '0', readAt: NOW },
    ],
    [
      'an error and no Results: the old channel is dropped',
      [status('pushchannel-1', 'Get', '404')],
      { channelUri: null, readAt: NOW },
    ],
  ])('stores what the device answered to the channel Get: %s', (_, commands, expected) => {
    const facts = device({ push: fresh });
    const p = pushPlan({
      msg: inSession('2', commands),
      session: session({ lastMsgId: '1' }),
      device: facts,
    });
    expect(composeAnswer(p, facts, [], false, NOW, PUSH).push).toEqual(expected);
  });
});

describe('lockFree: the idle fast path (one read, no lock)', () => {
  const PUSH: PlannerConfig = { ...CONFIG, providerId: 'mullion', pushChannel: { refreshMs: 1e9 } };
  // What first-message.xml reports, as stored.
  const known = {
    devId: DEV,
    manufacturer: 'Contoso Ltd.',
    model: 'Surface Laptop 7',
    dmVersion: '1.3',
    language: 'en-US',
  };
  const seen = new Date(NOW.getTime() - 1000);
  const drained = session({ drainedSeq: 5, drainedUserScope: true });
  const idleDevice = device({ lastSeenAt: seen, inventory: known });

  function route(
    over: Partial<MessageInput> & { queueMark?: number | null; config?: PlannerConfig } = {},
  ) {
    const { queueMark = 5, config = CONFIG, ...input } = over;
    const p = planMessage(
      {
        msg: fixture('first-message.xml'),
        requestHash: 'h',
        device: idleDevice,
        session: drained,
        staleLock: false,
        now: NOW,
        ...input,
      },
      config,
    );
    if (p.kind !== 'process') throw new Error(p.kind);
    return lockFree(p, queueMark, input.device ?? idleDevice, NOW, config)?.kind ?? 'lock';
  }

  it('answers a new session with the Statuses only, from the plan alone', () => {
    const p = processing({ device: idleDevice, session: drained });
    const r = lockFree(p, 5, idleDevice, NOW, CONFIG);
    if (r?.kind !== 'idle') throw new Error(`expected idle, got ${r?.kind}`);
    const out = parseSyncml(Buffer.from(r.response));
    expect(out.commands.map((c) => c.kind)).toEqual(['Status', 'Status', 'Status', 'Status']);
    expect(out.final).toBe(true);
    expect(out.header.msgId).toBe('1');
  });

  it.each<[string, Parameters<typeof route>[0], string]>([
    ['queue empty at this marker, nothing due', {}, 'idle'],
    [
      'an inactive device (nothing is delivered), queue unknown',
      { device: device({ ...idleDevice, active: false }), session: session(), queueMark: 9 },
      'idle',
    ],
    [
      'lastSeenAt due',
      {
        device: device({
          lastSeenAt: new Date(NOW.getTime() - CONFIG.lastSeenIntervalMs),
          inventory: known,
        }),
      },
      'optimistic',
    ],
    ['never seen', { device: device({ inventory: known }) }, 'optimistic'],
    [
      'inventory changed',
      { device: device({ lastSeenAt: seen, inventory: { ...known, model: 'old' } }) },
      'optimistic',
    ],
    ['queue marker moved since the queue was found empty', { queueMark: 6 }, 'deliver'],
    ['a command write in flight', { queueMark: null }, 'deliver'],
    ['queue never found empty', { session: null }, 'deliver'],
    [
      'drained without user scope, user logged on',
      { session: session({ drainedSeq: 5, drainedUserScope: false }) },
      'deliver',
    ],
    ['push channel due (a Get of the server’s own)', { config: PUSH }, 'optimistic'],
    [
      'the last session left commands unanswered (requeue)',
      { session: session({ drainedSeq: 5, awaiting: { c1: 'Get' } }) },
      'lock',
    ],
    [
      'interim commands to expire',
      { session: session({ drainedSeq: 5, interim: { c1: 'Exec' } }) },
      'lock',
    ],
    ['the previous holder left the lock (stale)', { staleLock: true }, 'lock'],
    [
      'not the first message of its session',
      { msg: variant('first-message.xml', { sessionId: '7', msgId: '4' }) },
      'lock',
    ],
    [
      'an unenrolling device (Unenroll Exec)',
      { device: device({ ...idleDevice, unenrolling: true }), config: PUSH },
      'optimistic',
    ],
    [
      'the device asks to unenroll (alert 1226)',
      { msg: fixture('generic-alert-unenroll.xml') },
      'lock',
    ],
  ])('%s: %s', (_, over, expected) => {
    expect(route(over)).toBe(expected);
  });
});
