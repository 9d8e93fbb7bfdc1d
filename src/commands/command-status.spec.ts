import {
  ALL_COMMAND_STATUSES,
  CommandStatus,
  isFinalStatus,
  statusNameForCode,
} from './command-status';

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

// The codes OMA-DM RepPro 1.2.2 assigns (protocol/management-session.md §4.1); 515 is a gap.
const ASSIGNED = [
  ...range(200, 216),
  ...range(300, 305),
  ...range(400, 428),
  ...range(500, 517).filter((c) => c !== '515'),
];
const NON_FINAL = ['101', '213'];

describe('statusNameForCode (management-session.md §4.2)', () => {
  describe('the codes Windows answers most (MS-MDM 2.2.4.2 short list)', () => {
    it.each([
      ['200', CommandStatus.Acknowledged],
      ['400', CommandStatus.CommandFormatError],
      ['404', CommandStatus.CommandNotFound],
      ['405', CommandStatus.MethodNotAllowed],
      ['406', CommandStatus.NotSupported],
      ['500', CommandStatus.UnexpectedError],
    ])('%s → %s', (code, name) => {
      expect(statusNameForCode(code)).toBe(name);
    });
  });

  it('emits CommandFormatError for 400, never the MalformedSyntax alias filters accept', () => {
    expect(statusNameForCode('400')).not.toBe('MalformedSyntax');
    expect(ASSIGNED.map(statusNameForCode)).not.toContain('MalformedSyntax');
  });

  it('names the 2xx success variants with no name of their own Acknowledged, 202 included', () => {
    for (const code of range(201, 209)) expect(statusNameForCode(code)).toBe('Acknowledged');
  });

  it('keeps 101 (in progress) and 213 (chunk buffered) Awaiting: a final status follows', () => {
    for (const code of NON_FINAL) {
      expect(statusNameForCode(code)).toBe(CommandStatus.Awaiting);
      expect(isFinalStatus(statusNameForCode(code))).toBe(false);
    }
  });

  it('gives every assigned code a final name of its own', () => {
    const names = ASSIGNED.filter((c) => !NON_FINAL.includes(c)).map(statusNameForCode);
    for (const name of names) {
      expect(name).not.toBe(CommandStatus.Unknown);
      expect(isFinalStatus(name)).toBe(true);
    }
    // Outside 200–209, two codes sharing a name would make the name lie about one of them.
    const named = ASSIGNED.filter((c) => !range(200, 209).includes(c) && !NON_FINAL.includes(c));
    const firstCode = new Map<string, string>();
    const clashes: string[] = [];
    for (const code of named) {
      const name = statusNameForCode(code);
      const earlier = firstCode.get(name);
      if (earlier) clashes.push(`${earlier} and ${code} are both ${name}`);
      else firstCode.set(name, code);
    }
    expect(clashes).toEqual([]);
  });

  it('never reports a 4xx or 5xx failure as a success', () => {
    const failures = ASSIGNED.filter((c) => c >= '400');
    const asSuccess = failures.filter((c) => statusNameForCode(c) === CommandStatus.Acknowledged);
    expect(asSuccess).toEqual([]);
  });

  it('only emits names the status filter accepts', () => {
    for (const code of [...ASSIGNED, ...NON_FINAL, '515', '999']) {
      expect(ALL_COMMAND_STATUSES).toContain(statusNameForCode(code));
    }
  });

  it.each(['515', '102', '217', '299', '306', '429', '518', '600', '999'])(
    'maps the unassigned code %p to Unknown',
    (code) => {
      expect(statusNameForCode(code)).toBe(CommandStatus.Unknown);
    },
  );

  it.each(['abc', '', '20', '2000', ' 200', '200 ', '2e2'])(
    'maps the non-code %p to Unknown',
    (code) => {
      expect(statusNameForCode(code)).toBe(CommandStatus.Unknown);
    },
  );
});

describe('isFinalStatus', () => {
  it('is false while a command is queued or in flight, true once it ended', () => {
    expect(isFinalStatus(CommandStatus.Pending)).toBe(false);
    expect(isFinalStatus(CommandStatus.Awaiting)).toBe(false);
    expect(isFinalStatus(CommandStatus.Acknowledged)).toBe(true);
    expect(isFinalStatus(CommandStatus.Cancel)).toBe(true);
    expect(isFinalStatus(CommandStatus.Unknown)).toBe(true);
  });
});
