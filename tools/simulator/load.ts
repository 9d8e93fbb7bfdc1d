import type { SimulatedDevice } from './device';
import { SimulatorError } from './simulator-error';
import type { SessionOptions, SessionResult } from './types';

export interface LoadReport {
  devices: number;
  sessions: number;
  failures: number;
  wallMs: number;
  sessionsPerSecond: number;
  /** Latency of successful sessions (first POST to last answer), ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Distinct failure messages with their counts. */
  errors: Record<string, number>;
  /** Distinct protocol warnings with their counts. */
  warnings: Record<string, number>;
}

/** Nearest-rank percentile of ascending values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const count = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

/**
 * Runs every device concurrently, each `rounds` sessions one after the other (a device never has
 * two sessions at once), and measures sessions per second and session latency.
 */
export async function runLoad(
  devices: readonly SimulatedDevice[],
  rounds = 1,
  session: SessionOptions = {},
): Promise<LoadReport> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const warnings: Record<string, number> = {};
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    devices.map(async (device) => {
      for (let i = 0; i < rounds; i++) {
        let result: SessionResult;
        try {
          result = await device.runSession(session);
        } catch (err) {
          failures++;
          const kind = err instanceof SimulatorError ? err.kind : 'error';
          count(errors, `${kind}: ${(err as Error).message.split('\n')[0]}`);
          continue;
        }
        latencies.push(result.durationMs);
        // Strip the per-message prefix so the same finding counts once per kind.
        for (const w of result.warnings) count(warnings, w.replace(/^server message \S+: /, ''));
      }
    }),
  );
  const wallMs = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const sessions = devices.length * rounds;
  return {
    devices: devices.length,
    sessions,
    failures,
    wallMs,
    sessionsPerSecond: wallMs > 0 ? ((sessions - failures) * 1000) / wallMs : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
    errors,
    warnings,
  };
}
