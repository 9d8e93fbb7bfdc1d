import type { ExitInfo } from './server-process';
import {
  backoffDelay,
  StoreSupervisor,
  type SupervisedServer,
  type SupervisorPolicy,
} from './supervisor';

const POLICY: SupervisorPolicy = {
  maxRestarts: 3,
  windowMs: 10_000,
  initialBackoffMs: 100,
  maxBackoffMs: 350,
};
const KILLED: ExitInfo = { code: null, signal: 'SIGKILL' };

/** A server the test kills, or whose start it makes fail. */
class FakeServer implements SupervisedServer {
  private die!: (info: ExitInfo) => void;
  readonly exited = new Promise<ExitInfo>((resolve) => (this.die = resolve));
  stopped = false;
  constructor(readonly pid: number) {}
  kill(): void {
    this.die(KILLED);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.die({ code: 0, signal: null });
  }
}

/** A fake clock and spawner: the test sees every wait and every start, in order. */
function harness(failStarts = 0) {
  let clock = 0;
  let nextPid = 100;
  let failures = failStarts;
  const waits: number[] = [];
  const servers: FakeServer[] = [new FakeServer(nextPid++)];
  const logs: string[] = [];
  const gaveUp: string[] = [];
  let restarted: () => void = () => undefined;
  const supervisor = new StoreSupervisor(servers[0], POLICY, {
    restart: async () => {
      if (failures > 0) {
        failures--;
        throw new Error('address already in use\nmore output');
      }
      const server = new FakeServer(nextPid++);
      servers.push(server);
      restarted();
      return server;
    },
    onGiveUp: (reason) => gaveUp.push(reason),
    log: (line) => logs.push(line),
    now: () => clock,
    wait: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  });
  const nextStart = () => new Promise<void>((resolve) => (restarted = resolve));
  return {
    supervisor,
    servers,
    waits,
    logs,
    gaveUp,
    advance: (ms: number) => (clock += ms),
    /** Kills the current server and resolves once its successor runs. */
    async killAndRestart(): Promise<FakeServer> {
      const started = nextStart();
      servers.at(-1)!.kill();
      await started;
      return servers.at(-1)!;
    },
  };
}

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, POLICY))).toEqual([100, 200, 350, 350, 350]);
  });
});

describe('StoreSupervisor', () => {
  it('restarts a dead server with a growing backoff, logging each restart', async () => {
    const h = harness();
    const second = await h.killAndRestart();
    expect(h.supervisor.pid).toBe(second.pid);
    await h.killAndRestart();
    await h.killAndRestart();
    expect(h.waits).toEqual([100, 200, 350]);
    expect(h.supervisor.restarts).toBe(3);
    expect(h.logs.filter((l) => l.startsWith('store restarted'))).toHaveLength(3);
    expect(h.logs[0]).toMatch(/pid 100\) exited \(code null, signal SIGKILL\); restart 1 of 3/);
    expect(h.gaveUp).toEqual([]);
  });

  it('gives up once more than maxRestarts deaths fall within the window', async () => {
    const h = harness();
    for (let i = 0; i < POLICY.maxRestarts; i++) await h.killAndRestart();
    h.servers.at(-1)!.kill();
    await h.supervisor.ended;
    expect(h.gaveUp).toHaveLength(1);
    expect(h.gaveUp[0]).toMatch(/died 4 times within 10 s.*giving up after 3 restarts/);
    expect(h.logs.at(-1)).toMatch(/^GIVING UP/);
    expect(h.servers).toHaveLength(1 + POLICY.maxRestarts); // no start after giving up
  });

  it('forgets deaths older than the window', async () => {
    const h = harness();
    for (let i = 0; i < POLICY.maxRestarts; i++) await h.killAndRestart();
    h.advance(POLICY.windowMs);
    await h.killAndRestart();
    expect(h.gaveUp).toEqual([]);
    // The window holds one death again: the backoff starts over too.
    expect(h.waits.at(-1)).toBe(POLICY.initialBackoffMs);
  });

  it('counts failed restart attempts as deaths and gives up when they keep failing', async () => {
    const h = harness(Infinity);
    h.servers[0].kill();
    await h.supervisor.ended;
    expect(h.waits).toEqual([100, 200, 350]);
    expect(
      h.logs.filter((l) => l.startsWith('restart failed: address already in use')),
    ).toHaveLength(3);
    expect(h.gaveUp).toHaveLength(1);
  });

  it('keeps going when a restart fails once', async () => {
    const h = harness(1);
    const next = await h.killAndRestart();
    expect(h.waits).toEqual([100, 200]);
    expect(h.supervisor.pid).toBe(next.pid);
  });

  it('does not restart a server stopped through stop()', async () => {
    const h = harness();
    await h.supervisor.stop();
    await h.supervisor.stop();
    expect(h.servers[0].stopped).toBe(true);
    expect(h.waits).toEqual([]);
    expect(h.servers).toHaveLength(1);
    expect(h.gaveUp).toEqual([]);
  });
});
