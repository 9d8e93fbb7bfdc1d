import { dmClientPath } from '../common/device-protocol';
import { DEFAULT_POLL_SCHEDULE, PollSchedule } from './devices.types';

/** One DMClient Poll node and the value it gets. */
export interface PollNode {
  path: string;
  value: string;
  format: 'int' | 'bool';
}

/** A partial schedule over the current one (or the default). */
export interface PollSchedulePatch {
  firstSet?: { intervalMinutes?: number; count?: number };
  secondSet?: { intervalMinutes?: number; count?: number };
  steadyIntervalMinutes?: number;
  steadyCount?: number;
  pollOnLogin?: boolean;
  allUsersPollOnFirstLogin?: boolean;
}

export function mergePollSchedule(
  current: PollSchedule | undefined,
  patch: PollSchedulePatch,
): PollSchedule {
  const base = current ?? DEFAULT_POLL_SCHEDULE;
  // Field by field: a validated DTO may carry its absent fields as own `undefined` properties.
  const set = (b: PollSchedule['firstSet'], p: PollSchedulePatch['firstSet']) => ({
    intervalMinutes: p?.intervalMinutes ?? b.intervalMinutes,
    count: p?.count ?? b.count,
  });
  return {
    firstSet: set(base.firstSet, patch.firstSet),
    secondSet: set(base.secondSet, patch.secondSet),
    steadyIntervalMinutes: patch.steadyIntervalMinutes ?? base.steadyIntervalMinutes,
    steadyCount: patch.steadyCount ?? base.steadyCount,
    pollOnLogin: patch.pollOnLogin ?? base.pollOnLogin,
    allUsersPollOnFirstLogin: patch.allUsersPollOnFirstLogin ?? base.allUsersPollOnFirstLogin,
  };
}

/**
 * Rules the DMClient CSP states across fields (management-session.md §7): a device must keep
 * polling forever somewhere, so the steady set repeats forever (count 0) or has an interval.
 */
export function pollScheduleProblems(s: PollSchedule): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  if (s.steadyIntervalMinutes === 0) {
    problems.push({
      field: 'pollSchedule.steadyIntervalMinutes',
      message: 'the steady interval must be at least 1 minute: polling is the fallback to push',
    });
  }
  if (s.firstSet.count > 0 && s.firstSet.intervalMinutes === 0) {
    problems.push({
      field: 'pollSchedule.firstSet.intervalMinutes',
      message: 'must be at least 1 when firstSet.count is not 0',
    });
  }
  if (s.secondSet.count > 0 && s.secondSet.intervalMinutes === 0) {
    problems.push({
      field: 'pollSchedule.secondSet.intervalMinutes',
      message: 'must be at least 1 when secondSet.count is not 0',
    });
  }
  return problems;
}

/** DMClient CSP `Provider/<ProviderID>/Poll/…` values for a schedule. */
export function pollNodes(providerId: string, s: PollSchedule): PollNode[] {
  const int = (parm: string, v: number): PollNode => ({
    path: dmClientPath.poll(providerId, parm),
    value: String(v),
    format: 'int',
  });
  const bool = (parm: string, v: boolean): PollNode => ({
    path: dmClientPath.poll(providerId, parm),
    value: String(v),
    format: 'bool',
  });
  return [
    int('IntervalForFirstSetOfRetries', s.firstSet.intervalMinutes),
    int('NumberOfFirstRetries', s.firstSet.count),
    int('IntervalForSecondSetOfRetries', s.secondSet.intervalMinutes),
    int('NumberOfSecondRetries', s.secondSet.count),
    int('IntervalForRemainingScheduledRetries', s.steadyIntervalMinutes),
    int('NumberOfRemainingScheduledRetries', s.steadyCount),
    bool('PollOnLogin', s.pollOnLogin),
    bool('AllUsersPollOnFirstLogin', s.allUsersPollOnFirstLogin),
  ];
}
