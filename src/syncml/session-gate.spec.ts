import { Admission, SessionGate } from './session-gate';

/** A device that stays connected. */
const here = new AbortController().signal;
const hungUp = () => {
  const c = new AbortController();
  c.abort();
  return c.signal;
};

function admitted(a: Admission): () => void {
  if (!a.admitted) throw new Error(`refused: ${a.why}`);
  return a.release;
}

describe('SessionGate', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('admits up to `concurrent` at once, then queues, then refuses with the queue full', async () => {
    const gate = new SessionGate({ concurrent: 2, queued: 1, maxWaitMs: 1000 });
    admitted(await gate.enter(here));
    admitted(await gate.enter(here));
    const waiting = gate.enter(here);
    expect(gate.queued).toBe(1);
    expect(await gate.enter(here)).toEqual({ admitted: false, why: 'full' });
    expect(gate.inFlight).toBe(2);
    void waiting;
  });

  it('hands a freed place to the oldest waiter first', async () => {
    const gate = new SessionGate({ concurrent: 1, queued: 5, maxWaitMs: 1000 });
    const release = admitted(await gate.enter(here));
    const order: string[] = [];
    const a = gate.enter(here).then((x) => (order.push('a'), x));
    const b = gate.enter(here).then((x) => (order.push('b'), x));
    release();
    const releaseA = admitted(await a);
    expect(order).toEqual(['a']);
    expect(gate.inFlight).toBe(1);
    releaseA();
    admitted(await b);
    expect(order).toEqual(['a', 'b']);
  });

  it('refuses a waiter after maxWaitMs and counts it', async () => {
    const gate = new SessionGate({ concurrent: 1, queued: 5, maxWaitMs: 1000 });
    admitted(await gate.enter(here));
    const waiting = gate.enter(here);
    jest.advanceTimersByTime(999);
    expect(gate.queued).toBe(1);
    jest.advanceTimersByTime(1);
    expect(await waiting).toEqual({ admitted: false, why: 'waited' });
    expect(gate.queued).toBe(0);
    expect(gate.takeRefused()).toEqual({ full: 0, waited: 1, gone: 0 });
    expect(gate.takeRefused()).toEqual({ full: 0, waited: 0, gone: 0 });
  });

  it('drops a waiter whose device hangs up, and refuses one that hung up before entering', async () => {
    const gate = new SessionGate({ concurrent: 1, queued: 5, maxWaitMs: 1000 });
    expect(await gate.enter(hungUp())).toEqual({ admitted: false, why: 'gone' });
    const release = admitted(await gate.enter(here));
    const device = new AbortController();
    const gone = gate.enter(device.signal);
    const next = gate.enter(here);
    expect(gate.queued).toBe(2);
    device.abort();
    // It leaves the queue when its connection closes, not when its turn comes.
    expect(gate.queued).toBe(1);
    expect(await gone).toEqual({ admitted: false, why: 'gone' });
    release();
    admitted(await next);
    expect(gate.inFlight).toBe(1);
    expect(gate.takeRefused().gone).toBe(2);
  });

  it('counts a release once, however often it is called', async () => {
    const gate = new SessionGate({ concurrent: 1, queued: 0, maxWaitMs: 1000 });
    const release = admitted(await gate.enter(here));
    release();
    release();
    expect(gate.inFlight).toBe(0);
    admitted(await gate.enter(here));
    expect(await gate.enter(here)).toEqual({ admitted: false, why: 'full' });
  });

  it('does not let a newcomer pass the queue while places free up', async () => {
    const gate = new SessionGate({ concurrent: 1, queued: 5, maxWaitMs: 1000 });
    const release = admitted(await gate.enter(here));
    const first = gate.enter(here);
    release();
    // The freed place went to the waiter, so the newcomer waits behind it.
    const newcomer = gate.enter(here);
    expect(gate.queued).toBe(1);
    admitted(await first);
    void newcomer;
  });
});
