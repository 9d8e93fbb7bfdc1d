import type { CommandConfig, WinCommand } from '../commands/commands.types';
import { batchOutcome, deliveryConfigs, DesiredValue } from './reconcile-outcome';

const at = new Date('2026-01-01T00:00:00Z');

/** A command as stored: status name, SyncML code and Results, as the delivery path records them. */
function cmd(
  position: number,
  config: CommandConfig,
  status = 'Pending',
  statusCode: string | null = null,
  value?: string,
): WinCommand {
  return {
    id: `c${position}`,
    cmdId: `b-${position}`,
    batchId: 'b',
    organizationId: 'o',
    winDeviceId: 'd',
    position,
    config,
    status,
    statusCode,
    data: value === undefined ? [] : [{ path: config.path, value }],
    attempts: 1,
    sentAt: at,
    receivedAt: statusCode ? at : null,
    canceledAt: null,
    createdAt: at,
    updatedAt: at,
  };
}

const A = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const B = './Device/Vendor/MSFT/Policy/Config/Browser/HomePages';
const write = (path: string, value: string, format: CommandConfig['format'] = 'int') =>
  ({ path, action: 'Replace', format, value }) as CommandConfig;
const get = (path: string, format: CommandConfig['format'] = 'int') =>
  ({ path, action: 'Get', format }) as CommandConfig;
const del = (path: string) => ({ path, action: 'Delete', format: 'chr' }) as CommandConfig;

describe('deliveryConfigs', () => {
  it('puts each verified setting’s Get right after its write, in setting order', () => {
    const configs = deliveryConfigs([
      { path: A, format: 'int', value: '0', verify: true },
      { path: B, format: 'chr', value: 'x', action: 'Add' },
    ]);
    expect(configs.map((c) => `${c.action} ${c.path}`)).toEqual([
      `Replace ${A}`,
      `Get ${A}`,
      `Add ${B}`,
    ]);
    expect(configs[1]).not.toHaveProperty('value');
  });
});

describe('batchOutcome: deliver', () => {
  const cases: [string, WinCommand[], string, boolean, object[]][] = [
    [
      'nothing answered yet',
      [cmd(0, write(A, '0')), cmd(1, get(A))],
      'delivering',
      false,
      [{ path: A, state: 'delivering' }],
    ],
    [
      'write acknowledged, Get still open',
      [cmd(0, write(A, '0'), 'Acknowledged', '200'), cmd(1, get(A), 'Awaiting')],
      'verifying',
      false,
      [{ path: A, state: 'verifying', statusCode: '200' }],
    ],
    [
      'Get answered 200 before its Results arrived',
      [cmd(0, write(A, '0'), 'Acknowledged', '200'), cmd(1, get(A), 'Acknowledged', '200')],
      'verifying',
      false,
      [{ path: A, state: 'verifying', statusCode: '200' }],
    ],
    [
      'read back equal (normalised: 00 is 0)',
      [cmd(0, write(A, '0'), 'Acknowledged', '200'), cmd(1, get(A), 'Acknowledged', '200', '00')],
      'verified',
      true,
      [{ path: A, state: 'verified', statusCode: '200', verified: 'yes' }],
    ],
    [
      'Get 404 after an acknowledged write: unreadable, not a failure',
      [cmd(0, write(A, '0'), 'Acknowledged', '200'), cmd(1, get(A), 'CommandNotFound', '404')],
      'verified',
      true,
      [{ path: A, state: 'verified', statusCode: '404', verified: 'unreadable' }],
    ],
    [
      'Get 405: unreadable',
      [cmd(0, write(A, '0'), 'Acknowledged', '200'), cmd(1, get(A), 'MethodNotAllowed', '405')],
      'verified',
      true,
      [{ path: A, state: 'verified', statusCode: '405', verified: 'unreadable' }],
    ],
    [
      'read back different: failed with the device value',
      [cmd(0, write(A, '0'), 'Acknowledged', '200'), cmd(1, get(A), 'Acknowledged', '200', '1')],
      'failed',
      true,
      [{ path: A, state: 'failed', statusCode: '200', deviceValue: '1' }],
    ],
    [
      'write refused: failed with its code and the value the Get found',
      [cmd(0, write(A, '0'), 'UnexpectedError', '500'), cmd(1, get(A), 'Acknowledged', '200', '1')],
      'failed',
      true,
      [{ path: A, state: 'failed', statusCode: '500', deviceValue: '1' }],
    ],
    [
      'one setting refused, the other verified: the profile fails, naming the first',
      [
        cmd(0, write(A, '0'), 'Acknowledged', '200'),
        cmd(1, get(A), 'Acknowledged', '200', '0'),
        cmd(2, write(B, 'x', 'chr'), 'CommandNotFound', '404'),
      ],
      'failed',
      true,
      [
        { path: A, state: 'verified', statusCode: '200', verified: 'yes' },
        { path: B, state: 'failed', statusCode: '404' },
      ],
    ],
    [
      'a refused write while another is still open: not decided yet',
      [cmd(0, write(A, '0'), 'UnexpectedError', '500'), cmd(1, write(B, 'x', 'chr'), 'Awaiting')],
      'delivering',
      false,
      [
        { path: A, state: 'failed', statusCode: '500' },
        { path: B, state: 'delivering' },
      ],
    ],
    [
      'without verify, the acknowledgement is the outcome',
      [cmd(0, write(B, 'x', 'chr'), 'Acknowledged', '200')],
      'verified',
      true,
      [{ path: B, state: 'verified', statusCode: '200' }],
    ],
    [
      'cancelled (the device unenrolled): failed without a code',
      [cmd(0, write(A, '0'), 'Cancel'), cmd(1, get(A), 'Cancel')],
      'failed',
      true,
      [{ path: A, state: 'failed' }],
    ],
  ];
  it.each(cases)('%s', (_name, commands, state, settled, settings) => {
    const out = batchOutcome('deliver', commands);
    expect(out.state).toBe(state);
    expect(out.settled).toBe(settled);
    expect(out.settings).toStrictEqual(settings);
  });

  it('names the first failing setting with its code and device value', () => {
    const out = batchOutcome('deliver', [
      cmd(0, write(A, '0'), 'Acknowledged', '200'),
      cmd(1, get(A), 'Acknowledged', '200', '1'),
    ]);
    expect(out.failure).toEqual({ path: A, statusCode: '200', deviceValue: '1' });
  });
});

describe('batchOutcome: check (drift)', () => {
  const desired = new Map<string, DesiredValue>([[A, { format: 'bool', value: 'true' }]]);
  it.each([
    ['still open', cmd(0, get(A, 'bool'), 'Awaiting'), 'verified', false, 'verifying', undefined],
    [
      'same value',
      cmd(0, get(A, 'bool'), 'Acknowledged', '200', '1'),
      'verified',
      true,
      'verified',
      'yes',
    ],
    [
      'other value',
      cmd(0, get(A, 'bool'), 'Acknowledged', '200', 'false'),
      'drifted',
      true,
      'drifted',
      undefined,
    ],
    [
      'unreadable',
      cmd(0, get(A, 'bool'), 'CommandNotFound', '404'),
      'verified',
      true,
      'verified',
      'unreadable',
    ],
    [
      'device error says nothing about the value',
      cmd(0, get(A, 'bool'), 'UnexpectedError', '500'),
      'verified',
      true,
      'verified',
      undefined,
    ],
  ])('%s', (_name, command, state, settled, settingState, verified) => {
    const out = batchOutcome('check', [command], desired);
    expect(out.state).toBe(state);
    expect(out.settled).toBe(settled);
    expect(out.settings[0].state).toBe(settingState);
    expect(out.settings[0].verified).toBe(verified);
  });

  it('reports the drifted setting with the device value', () => {
    const out = batchOutcome(
      'check',
      [cmd(0, get(A, 'bool'), 'Acknowledged', '200', '0')],
      desired,
    );
    expect(out.failure).toEqual({ path: A, statusCode: '200', deviceValue: '0' });
  });
});

describe('batchOutcome: verify (an atomic profile’s first read-back)', () => {
  const desired = new Map<string, DesiredValue>([[A, { format: 'int', value: '0' }]]);
  it.each([
    ['open', cmd(0, get(A), 'Awaiting'), 'verifying', false],
    ['equal', cmd(0, get(A), 'Acknowledged', '200', '0'), 'verified', true],
    ['different: failed, not drifted', cmd(0, get(A), 'Acknowledged', '200', '1'), 'failed', true],
    ['unreadable', cmd(0, get(A), 'CommandNotFound', '404'), 'verified', true],
    ['a Get error fails it', cmd(0, get(A), 'UnexpectedError', '500'), 'failed', true],
  ])('%s', (_name, command, state, settled) => {
    const out = batchOutcome('verify', [command], desired);
    expect(out.state).toBe(state);
    expect(out.settled).toBe(settled);
  });
});

describe('batchOutcome: remove', () => {
  it.each([
    ['open', 'Awaiting', null, 'removing', false],
    ['deleted', 'Acknowledged', '200', 'removed', true],
    ['already absent (404)', 'CommandNotFound', '404', 'removed', true],
    ['refused', 'MethodNotAllowed', '405', 'failed', true],
  ])('%s', (_name, status, code, state, settled) => {
    const out = batchOutcome('remove', [cmd(0, del(A), status, code)]);
    expect(out.state).toBe(state);
    expect(out.settled).toBe(settled);
  });
});
