import type { WinCommand } from '../commands/commands.types';
import { buildSyncml, parseSyncml } from './codec';
import { toSyncmlCommand } from './command-encoding';
import { queuedCommand } from './fixtures/planner-fixtures';

const cmd = (config: WinCommand['config']): WinCommand => queuedCommand(config, { cmdId: 'abc-1' });

const roundTrip = (c: WinCommand) =>
  parseSyncml(
    buildSyncml({
      header: { sessionId: '1', msgId: '1', target: 'D', source: 'S' },
      commands: [toSyncmlCommand(c)],
      final: true,
    }),
  ).commands[0];

describe('toSyncmlCommand (management-session.md §5)', () => {
  it('Replace carries Format, Type and Data', () => {
    expect(roundTrip(cmd({ path: './A/B', action: 'Replace', value: '0', format: 'int' }))).toEqual(
      {
        kind: 'Replace',
        cmdId: 'abc-1',
        items: [{ target: './A/B', meta: { format: 'int', type: 'text/plain' }, data: '0' }],
      },
    );
  });

  it('Add of a node has no Data', () => {
    const c = roundTrip(cmd({ path: './A/N', action: 'Add', format: 'node' }));
    expect(c).toEqual({
      kind: 'Add',
      cmdId: 'abc-1',
      items: [{ target: './A/N', meta: { format: 'node' } }],
    });
  });

  it('Get and Delete carry the Target only', () => {
    for (const action of ['Get', 'Delete'] as const) {
      expect(roundTrip(cmd({ path: './A', action, format: 'chr' }))).toEqual({
        kind: action,
        cmdId: 'abc-1',
        items: [{ target: './A' }],
      });
    }
  });

  it('Exec with and without Data; Copy with Source = value', () => {
    expect(roundTrip(cmd({ path: './X/doWipe', action: 'Exec', format: 'chr' }))).toEqual({
      kind: 'Exec',
      cmdId: 'abc-1',
      items: [{ target: './X/doWipe' }],
    });
    expect(
      roundTrip(cmd({ path: './X/Unenroll', action: 'Exec', format: 'chr', value: 'P&Q <x>' })),
    ).toMatchObject({
      items: [{ target: './X/Unenroll', data: 'P&Q <x>', meta: { format: 'chr' } }],
    });
    expect(
      roundTrip(cmd({ path: './To', action: 'Copy', format: 'chr', value: './From' })),
    ).toEqual({
      kind: 'Copy',
      cmdId: 'abc-1',
      items: [{ target: './To', source: './From' }],
    });
  });

  it('keeps xml values and entity-like text exact', () => {
    const value =
      '<MsiInstallJob><ContentURL>https://h/x?sig=a&amp;b=c</ContentURL></MsiInstallJob>';
    expect(roundTrip(cmd({ path: './A', action: 'Replace', format: 'xml', value }))).toMatchObject({
      items: [{ data: value }],
    });
  });
});
