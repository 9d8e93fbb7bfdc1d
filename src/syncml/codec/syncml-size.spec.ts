import { package2 } from './fixtures/server-package2';
import { buildSyncml } from './syncml-write';
import { envelopeBytes, maxMsgSizeOf, measureCommand } from './syncml-size';
import type { SyncmlCommand } from './syncml.types';

describe('size budgeting', () => {
  it.each([
    [true, false],
    [false, false],
    [true, true],
    [false, true],
  ])('envelope + Σ commands equals the built size (final %s, headless %s)', (final, headless) => {
    const m = { ...package2, final };
    const sum = m.commands.reduce((n, c) => n + measureCommand(c), 0);
    expect(envelopeBytes(m.header, final, { headless }) + sum).toBe(
      Buffer.byteLength(buildSyncml(m, { headless }), 'utf8'),
    );
  });

  it('measures multi-byte and escaped values exactly', () => {
    const cmd: SyncmlCommand = {
      kind: 'Replace',
      cmdId: '1',
      items: [{ target: './x', data: 'é😀 & <x> "\r' }],
    };
    const alone = buildSyncml({ ...package2, commands: [cmd] });
    expect(envelopeBytes(package2.header, true) + measureCommand(cmd)).toBe(
      Buffer.byteLength(alone),
    );
  });
});

describe('maxMsgSizeOf', () => {
  it.each([
    [{ maxMsgSize: '524288' }, 524288],
    [{ maxMsgSize: ' 65535 ' }, 65535],
    [{ maxMsgSize: '0' }, undefined],
    [{ maxMsgSize: '-1' }, undefined],
    [{ maxMsgSize: '1e5' }, undefined],
    [{ maxMsgSize: '0x100' }, undefined],
    [{}, undefined],
    [undefined, undefined],
  ])('%j → %p', (meta, expected) => {
    expect(maxMsgSizeOf({ meta })).toBe(expected);
  });
});
