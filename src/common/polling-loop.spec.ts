import { PollingLoop } from './polling-loop';

const IDLE_MS = 1_000;

/** A pass the test finishes by hand, to hold the loop mid-pass. */
function deferred() {
  let resolve!: (busy: boolean) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<boolean>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A loop whose passes answer from `answers` (a value, an error, or a pending deferred). */
function harness() {
  const errors: string[] = [];
  const answers: Array<boolean | Error | Promise<boolean>> = [];
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const loop = new PollingLoop({
    name: 'test pass',
    log: { error: (m) => errors.push(m) },
    pass: async () => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const a = answers.shift() ?? false;
        if (a instanceof Error) throw a;
        return await a;
      } finally {
        inFlight--;
      }
    },
  });
  return {
    loop,
    errors,
    answers,
    calls: () => calls,
    maxInFlight: () => maxInFlight,
  };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('PollingLoop', () => {
  it('runs the first pass after firstMs, again at once while busy, after idleMs when idle', async () => {
    const h = harness();
    h.answers.push(true, true, false);
    h.loop.start(IDLE_MS, 500);
    await jest.advanceTimersByTimeAsync(499);
    expect(h.calls()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.calls()).toBe(1);
    // Busy: the next passes follow within a timer tick or two (Node clamps 0 ms to 1), not idleMs.
    await jest.advanceTimersByTimeAsync(10);
    expect(h.calls()).toBe(3);
    await jest.advanceTimersByTimeAsync(IDLE_MS - 20);
    expect(h.calls()).toBe(3);
    await jest.advanceTimersByTimeAsync(20);
    expect(h.calls()).toBe(4);
    await h.loop.stop();
  });

  it('logs a pass that throws and keeps polling at the idle interval', async () => {
    const h = harness();
    h.answers.push(new Error('store down'), true, false);
    h.loop.start(IDLE_MS);
    await jest.advanceTimersByTimeAsync(0);
    expect(h.errors).toEqual(['test pass failed: store down']);
    expect(h.calls()).toBe(1);
    await jest.advanceTimersByTimeAsync(IDLE_MS - 1);
    expect(h.calls()).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(h.calls()).toBe(2);
    await h.loop.stop();
  });

  it('never overlaps passes: a kick or the clock during a pass waits for it', async () => {
    const h = harness();
    const slow = deferred();
    h.answers.push(slow.promise);
    h.loop.start(IDLE_MS);
    await jest.advanceTimersByTimeAsync(0);
    expect(h.calls()).toBe(1);
    h.loop.kick();
    h.loop.kick();
    await jest.advanceTimersByTimeAsync(10 * IDLE_MS);
    expect(h.calls()).toBe(1);
    slow.resolve(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(h.calls()).toBe(2);
    expect(h.maxInFlight()).toBe(1);
    await h.loop.stop();
  });

  it('a kick while idle runs the next pass at once; before start it does nothing', async () => {
    const h = harness();
    h.loop.kick();
    await jest.advanceTimersByTimeAsync(10 * IDLE_MS);
    expect(h.calls()).toBe(0);
    h.loop.start(IDLE_MS);
    await jest.advanceTimersByTimeAsync(0);
    expect(h.calls()).toBe(1);
    h.loop.kick();
    await jest.advanceTimersByTimeAsync(0);
    expect(h.calls()).toBe(2);
    await h.loop.stop();
  });

  it('stop waits for the running pass, marks it stopped, and schedules nothing after it', async () => {
    const h = harness();
    const slow = deferred();
    h.answers.push(slow.promise);
    h.loop.start(IDLE_MS);
    await jest.advanceTimersByTimeAsync(0);
    let stoppedDone = false;
    const stopping = h.loop.stop().then(() => {
      stoppedDone = true;
    });
    expect(h.loop.stopped).toBe(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(stoppedDone).toBe(false);
    slow.resolve(true);
    await stopping;
    await jest.advanceTimersByTimeAsync(10 * IDLE_MS);
    expect(h.calls()).toBe(1);
    h.loop.kick();
    await jest.advanceTimersByTimeAsync(0);
    expect(h.calls()).toBe(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not log a pass that fails because the loop is stopping', async () => {
    const h = harness();
    const slow = deferred();
    h.answers.push(slow.promise);
    h.loop.start(IDLE_MS);
    await jest.advanceTimersByTimeAsync(0);
    const stopping = h.loop.stop();
    slow.reject(new Error('aborted'));
    await stopping;
    expect(h.errors).toEqual([]);
  });

  it('stop before the first pass cancels it', async () => {
    const h = harness();
    h.loop.start(IDLE_MS, 500);
    await h.loop.stop();
    await jest.advanceTimersByTimeAsync(10 * IDLE_MS);
    expect(h.calls()).toBe(0);
    h.loop.start(IDLE_MS);
    await jest.advanceTimersByTimeAsync(0);
    expect(h.calls()).toBe(0);
  });
});
