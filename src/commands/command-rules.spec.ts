import { atomicBatchProblems } from './command-rules';
import type { CommandConfig } from './commands.types';

const LIMITS = { maxCommands: 3, maxMsgSize: 8192 };
const replace = (path: string, value = '1'): CommandConfig => ({
  path,
  action: 'Replace',
  value,
  format: 'chr',
});
const P = './Device/Vendor/MSFT/Policy/Config/Test';

describe('atomicBatchProblems', () => {
  it.each<[string, CommandConfig[], string[]]>([
    ['Replaces of ./Device nodes', [replace(`${P}/A`), replace(`${P}/B`)], []],
    [
      'a Get and a Copy',
      [
        { path: `${P}/A`, action: 'Get', format: 'chr' },
        { path: `${P}/B`, action: 'Copy', value: `${P}/A`, format: 'chr' },
      ],
      ['commands.0.config.action', 'commands.1.config.action'],
    ],
    [
      'an Add then a Replace of one node',
      [{ path: `${P}/A`, action: 'Add', value: '1', format: 'chr' }, replace(`${P}/A`)],
      ['commands.1.config.path'],
    ],
    [
      './User and ./Device nodes mixed',
      [replace('./User/Vendor/MSFT/X'), replace(`${P}/A`)],
      ['atomic'],
    ],
    ['only ./User nodes', [replace('./User/Vendor/MSFT/X'), replace('./User/Vendor/MSFT/Y')], []],
    [
      'more commands than one message carries',
      [1, 2, 3, 4].map((i) => replace(`${P}/N${i}`)),
      ['atomic'],
    ],
    ['values that cannot fit one message', [replace(`${P}/Big`, 'x'.repeat(6000))], ['atomic']],
    [
      'escaped values that cannot fit one message',
      [replace(`${P}/Big`, '&'.repeat(1500))],
      ['atomic'],
    ],
    ['values that fit one message', [replace(`${P}/Big`, 'x'.repeat(5000))], []],
  ])('%s', (_, configs, fields) => {
    expect(atomicBatchProblems(configs, LIMITS).map((p) => p.field)).toEqual(fields);
  });
});
