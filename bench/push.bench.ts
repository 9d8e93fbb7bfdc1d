/*
 * Enqueue-to-delivery latency, push against poll: `npm run bench:push [-- --count 20 --poll-ms 2000]`.
 *
 * Starts the real app with its device listener and a fake WNS on loopback (test/support/fake-wns),
 * seeds two devices with registered certificates, and measures, for each of --count commands, the
 * time from the POST that queues it to the simulated PC receiving it in a session:
 *  - push: the PC reported a channel; it checks in as soon as the fake WNS accepts a push for it
 *    (Windows starts a session on a raw push, management-session.md §7);
 *  - poll: the PC has no channel and checks in every --poll-ms (a compressed stand-in for the
 *    DMClient schedule: with the defaults a settled PC polls every 1440 min, so the real wait is
 *    up to that interval, on average half of it).
 * Commands are queued at a random moment of the poll cycle. Prints min / median / p95 / max.
 */
import { parseArgs } from 'node:util';
import { SimulatedDevice } from '../tools/simulator';
import { FakeWns } from '../test/support/fake-wns';
import { makeDeviceCredentials } from '../test/support/device-certs';
import { BenchServer, seedBenchDevice, startBenchServer } from './lib/bench-server';
import { integerOption } from './lib/options';

const PROVIDER = 'mullion';

interface Device {
  slug: string;
  deviceId: string;
  sim: SimulatedDevice;
}

async function device(server: BenchServer, channelUri?: string): Promise<Device> {
  const { slug, deviceId } = await seedBenchDevice(server);
  const creds = await makeDeviceCredentials(deviceId);
  const res = await fetch(
    `${server.baseUrl}/v1/organizations/${slug}/mdm/windows/enterprise/devices/${deviceId}`,
    {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ certificate: creds.certPem }),
    },
  );
  if (res.status !== 200) throw new Error(`register certificate: ${res.status}`);
  const sim = new SimulatedDevice({
    deviceId,
    cert: creds.certPem,
    key: creds.keyPem,
    serverUrl: `https://127.0.0.1:${server.devices!.port}`,
    insecure: true,
    ...(channelUri && { push: { providerId: PROVIDER, channelUri } }),
  });
  await sim.runSession(); // reports its channel, if any
  return { slug, deviceId, sim };
}

/** Sessions one at a time; every delivered batch resolves its waiter. */
class Checkins {
  private running: Promise<void> | null = null;
  private again = false;
  private readonly waiters = new Map<string, () => void>();
  constructor(private readonly d: Device) {}

  delivered(batchId: string): Promise<void> {
    return new Promise((resolve) => this.waiters.set(batchId, resolve));
  }

  checkIn(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const s = await this.d.sim.runSession();
        for (const e of s.transcript) {
          const batchId = e.cmdId.replace(/-\d+$/, '');
          this.waiters.get(batchId)?.();
          this.waiters.delete(batchId);
        }
      } while (this.again);
    })().finally(() => (this.running = null));
    return this.running;
  }
}

async function enqueue(server: BenchServer, d: Device): Promise<string> {
  const res = await fetch(
    `${server.baseUrl}/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}/commands`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }],
      }),
    },
  );
  const body = (await res.json()) as { data: { id: string } };
  return body.data.id;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function summary(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const f = (v: number) => `${v.toFixed(0)} ms`.padStart(9);
  return `${label.padEnd(28)} min ${f(s[0])}  median ${f(at(0.5))}  p95 ${f(at(0.95))}  max ${f(s[s.length - 1])}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      count: { type: 'string', default: '20' },
      'poll-ms': { type: 'string', default: '2000' },
    },
  });
  const usage = 'npm run bench:push -- [--count N (default 20)] [--poll-ms MS (default 2000)]';
  const count = integerOption(values, 'count', 1, 1000, usage);
  const pollMs = integerOption(values, 'poll-ms', 100, 600000, usage);
  const wns = await new FakeWns().start();
  const server = await startBenchServer({
    deviceListener: true,
    log: (m) => console.error(m),
    env: {
      WNS_PACKAGE_SID: 'ms-app://S-1-15-2-0-0-0-0-0-0-0',
      WNS_CLIENT_SECRET: 'bench-secret',
      WNS_TOKEN_URL: wns.tokenUrl,
      WNS_EXTRA_CHANNEL_ORIGINS: wns.origin,
    },
  });
  try {
    const pushed = await device(server, wns.channelUri('bench'));
    const polled = await device(server);
    const pushCheckins = new Checkins(pushed);
    const pollCheckins = new Checkins(polled);
    wns.onPush = () => void pushCheckins.checkIn();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await sleep(pollMs);
        if (polling) await pollCheckins.checkIn();
      }
    })();

    const measure = async (d: Device, c: Checkins): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        await sleep(Math.random() * pollMs);
        const started = performance.now();
        const batchId = await enqueue(server, d);
        await c.delivered(batchId);
        out.push(performance.now() - started);
      }
      return out;
    };
    const withPush = await measure(pushed, pushCheckins);
    const withPoll = await measure(polled, pollCheckins);
    polling = false;
    await poller;
    console.log(`store: ${server.storeDescription}; ${count} commands each`);
    console.log(summary('push (fake WNS, loopback)', withPush));
    console.log(summary(`poll every ${pollMs} ms`, withPoll));
    console.log(`WNS token requests: ${wns.tokenRequests.length}, pushes: ${wns.pushes.length}`);
  } finally {
    await server.close();
    await wns.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
