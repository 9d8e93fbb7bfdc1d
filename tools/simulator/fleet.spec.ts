import { commandPicker, parseDuration, percentilesOf, phaseOf, scheduledCheckins } from './fleet';

describe('parseDuration', () => {
  it.each([
    ['60s', 60_000],
    ['2m', 120_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['90', 90_000],
    ['1.5s', 1500],
  ])('%s is %d ms', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  it.each(['', '0s', 's', '10 minutes', '-5s', '5d'])('refuses %j', (raw) => {
    expect(() => parseDuration(raw)).toThrow();
  });
});

describe('the fleet schedule', () => {
  it('spreads first check-ins evenly over one poll period', () => {
    expect([0, 1, 2, 3].map((i) => phaseOf(i, 4, 60_000))).toEqual([0, 15_000, 30_000, 45_000]);
  });

  it('schedules devices × duration / poll check-ins for whole periods', () => {
    expect(scheduledCheckins({ devices: 5000, pollMs: 60_000, durationMs: 180_000 })).toBe(15_000);
  });

  it('counts the partial last period by phase', () => {
    // Phases 0, 15, 30, 45 s; 70 s of run: 0 and 60; 15; 30; 45 → 5.
    expect(scheduledCheckins({ devices: 4, pollMs: 60_000, durationMs: 70_000 })).toBe(5);
  });
});

describe('commandPicker', () => {
  const picks = (fraction: number, n: number) => {
    const pick = commandPicker(fraction);
    return Array.from({ length: n }, () => pick()).filter(Boolean).length;
  };

  it.each([
    [0, 1000, 0],
    [0.01, 1000, 10],
    [0.1, 1000, 100],
    [1, 50, 50],
  ])('picks fraction %p of %d check-ins: %d', (fraction, n, want) => {
    expect(picks(fraction, n)).toBe(want);
  });

  it('spaces its picks evenly', () => {
    const pick = commandPicker(0.25);
    expect(Array.from({ length: 8 }, () => pick())).toEqual([
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      true,
    ]);
  });
});

describe('percentilesOf', () => {
  it('sorts and reads nearest-rank percentiles', () => {
    const values = Array.from({ length: 200 }, (_, i) => 200 - i);
    expect(percentilesOf(values)).toEqual({ n: 200, p50: 100, p95: 190, p99: 198, max: 200 });
  });
});
