/*
 * `npm run simulate -- --devices N --poll 60s [--duration 180s]`: the fleet run (fleet.ts)
 * against a running server, or against one it starts in a process of its own (the bench server:
 * bench/lib/server-process.ts), whose CPU it then reports from /proc.
 */
import { COMMAND_MIX } from '../../bench/lib/command-mix';
import type { FleetRequest, Io } from '../simulate';
import { fleetSummary, runFleet } from './fleet';
import type { DeviceIdentity } from './types';

/** POSTs a batch of `k` commands for one device. */
function queuer(api: { url: string; token: string; org: string }, k: number) {
  const body = JSON.stringify({
    name: 'simulate',
    commands: Array.from({ length: k }, (_, i) => ({
      config: COMMAND_MIX[i % COMMAND_MIX.length],
    })),
  });
  return async (deviceId: string): Promise<void> => {
    const res = await fetch(
      `${api.url}/v1/organizations/${api.org}/mdm/windows/enterprise/devices/${deviceId}/commands/`,
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
        body,
        // As long as a device waits for an answer (the simulator's default request timeout).
        signal: AbortSignal.timeout(30_000),
      },
    );
    if (res.status !== 200) throw new Error(`queueing: HTTP ${res.status} ${await res.text()}`);
  };
}

export async function runFleetCli(req: FleetRequest, io: Io): Promise<number> {
  const progress = (m: string) => io.err(`… ${m}`);
  if (req.shared && req.identities) {
    const report = await runFleet({
      devices: req.devices,
      pollMs: req.pollMs,
      durationMs: req.durationMs,
      identities: req.identities,
      device: { serverUrl: req.shared.server, ...req.shared.trust, ...req.shared.device },
      commandFraction: req.commandFraction,
      queue: req.api ? queuer(req.api, req.batch) : undefined,
      progress,
    });
    io.out(fleetSummary(report));
    io.out(`server:     ${req.shared.server} (not started here: no server CPU figures)`);
    return report.failed ? 1 : 0;
  }

  // Started here. Loaded only now: the app, the driver and the PKI are not needed otherwise.
  const { forkServer } = await import('../../bench/lib/server-process');
  const { issueIdentities, registerDevices, createOrganization } =
    await import('../../bench/lib/fleet');
  const { cpuMsBetween, sampleServer } = await import('../../bench/lib/proc-cpu');
  const { MongoClient } = await import('mongodb');
  progress('starting a server (temporary DATA_DIR and embedded store, or MONGODB_URI)');
  const server = await forkServer();
  const client = await MongoClient.connect(server.storeUri, { maxPoolSize: 1 }).catch(
    async (e: unknown) => {
      await server.close();
      throw e;
    },
  );
  const stop = () =>
    void client.close().finally(() => server.close().finally(() => process.exit(130)));
  process.once('SIGINT', stop);
  try {
    const t0 = performance.now();
    progress(`issuing ${req.devices} device certificates (${req.keys} keys)`);
    const slug = await createOrganization(server);
    const identities: DeviceIdentity[] = await issueIdentities(req.devices, req.keys);
    progress(`registering ${req.devices} devices`);
    await registerDevices(server, client.db(), slug, identities, Math.min(10, req.devices));
    progress(`fleet ready in ${((performance.now() - t0) / 1000).toFixed(0)} s; running`);
    const s0 = sampleServer(server.pid);
    const report = await runFleet({
      devices: req.devices,
      pollMs: req.pollMs,
      durationMs: req.durationMs,
      identities,
      device: { serverUrl: server.deviceUrl, insecure: true },
      commandFraction: req.commandFraction,
      queue: queuer({ url: server.adminUrl, token: server.token, org: slug }, req.batch),
      progress,
    });
    const cpu = cpuMsBetween(s0, sampleServer(server.pid));
    io.out(fleetSummary(report));
    const per = (k: string) =>
      `${(cpu.get(k) ?? NaN).toFixed(0)} ms (${((cpu.get(k) ?? NaN) / Math.max(1, report.completed)).toFixed(2)} ms/check-in, ` +
      `${((100 * (cpu.get(k) ?? NaN)) / report.wallMs).toFixed(0)} % of a core)`;
    io.out(`server:     started here (pid ${server.pid}), ${server.storeDescription}`);
    io.out(`  main thread CPU: ${per('main')}`);
    io.out(`  server process:  ${per('process')}`);
    for (const k of cpu.keys()) {
      if (k !== 'main' && k !== 'process') io.out(`  ${k} CPU: ${per(k)}`);
    }
    return report.failed ? 1 : 0;
  } finally {
    process.off('SIGINT', stop);
    await client.close().catch(() => undefined);
    await server.close();
  }
}
