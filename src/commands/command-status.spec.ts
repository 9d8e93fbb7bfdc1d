import { CommandStatus, isFinalStatus, statusNameForCode } from './command-status';

describe('statusNameForCode (management-session.md §4.2)', () => {
  it.each([
    ['200', 'Acknowledged'],
    ['201', 'Acknowledged'],
    ['202', 'Acknowledged'],
    ['209', 'Acknowledged'],
    ['210', 'DeleteWithoutArchive'],
    ['400', 'CommandFormatError'],
    ['401', 'Unauthorized'],
    ['404', 'CommandNotFound'],
    ['405', 'MethodNotAllowed'],
    ['406', 'NotSupported'],
    ['408', 'ExpectedMessageNotReceivedInRequiredPeriodOfTime'],
    ['418', 'PutOrAddCommandFailedBecauseTargetAlreadyExists'],
    ['500', 'UnexpectedError'],
    ['507', 'ErrorCausedAllSyncMKCommandsFail'],
    ['517', 'AtomicResponseTooLarge'],
  ])('%s → %s', (code, name) => {
    expect(statusNameForCode(code)).toBe(name);
  });

  it('keeps 101 and 213 Awaiting (a final status follows)', () => {
    expect(statusNameForCode('101')).toBe(CommandStatus.Awaiting);
    expect(statusNameForCode('213')).toBe(CommandStatus.Awaiting);
  });

  it.each(['515', '299', '600', '999', 'abc', '', '20', '2000'])('maps %p to Unknown', (code) => {
    expect(statusNameForCode(code)).toBe('Unknown');
  });

  it('knows which states are final', () => {
    expect(isFinalStatus('Pending')).toBe(false);
    expect(isFinalStatus('Awaiting')).toBe(false);
    expect(isFinalStatus('Acknowledged')).toBe(true);
    expect(isFinalStatus('Cancel')).toBe(true);
  });
});
