import { DEFAULT_POLL_SCHEDULE } from './devices.types';
import { mergePollSchedule, pollNodes, pollScheduleProblems } from './poll-schedule';

describe('poll schedule', () => {
  it('merges field by field; fields present as undefined keep the current value', () => {
    const merged = mergePollSchedule(DEFAULT_POLL_SCHEDULE, {
      firstSet: { intervalMinutes: 3, count: undefined },
      steadyIntervalMinutes: undefined,
    });
    expect(merged.firstSet).toEqual({ intervalMinutes: 3, count: 5 });
    expect(merged.steadyIntervalMinutes).toBe(1440);
  });

  it('refuses a set that repeats with no interval', () => {
    const s = mergePollSchedule(undefined, { secondSet: { intervalMinutes: 0 } });
    expect(pollScheduleProblems(s).map((p) => p.field)).toEqual([
      'pollSchedule.secondSet.intervalMinutes',
    ]);
    expect(
      pollScheduleProblems(
        mergePollSchedule(undefined, { secondSet: { intervalMinutes: 0, count: 0 } }),
      ),
    ).toEqual([]);
  });

  it('maps to the DMClient Poll nodes of the provider', () => {
    const nodes = pollNodes('acme', DEFAULT_POLL_SCHEDULE);
    expect(nodes[0]).toEqual({
      path: './Vendor/MSFT/DMClient/Provider/acme/Poll/IntervalForFirstSetOfRetries',
      value: '15',
      format: 'int',
    });
    expect(nodes.map((n) => n.path.split('/').pop())).toEqual([
      'IntervalForFirstSetOfRetries',
      'NumberOfFirstRetries',
      'IntervalForSecondSetOfRetries',
      'NumberOfSecondRetries',
      'IntervalForRemainingScheduledRetries',
      'NumberOfRemainingScheduledRetries',
      'PollOnLogin',
      'AllUsersPollOnFirstLogin',
    ]);
  });
});
