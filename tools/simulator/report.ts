import type { LoadReport } from './load';
import type { SessionResult, TranscriptEntry } from './types';

const MAX_VALUE = 48;

function clip(value: string | undefined): string {
  if (value === undefined) return '';
  const flat = value.replace(/\s+/g, ' ');
  return flat.length > MAX_VALUE ? `${flat.slice(0, MAX_VALUE - 1)}…` : flat;
}

/** The value worth showing: what a Get returned, else what the server wrote. */
const valueOf = (e: TranscriptEntry): string => clip(e.resultValue ?? e.data);

/** A plain-text table; columns sized to their content. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** msg, cmdId, verb, target, format, status, value: one row per command item the device saw. */
export function transcriptTable(transcript: readonly TranscriptEntry[]): string {
  if (!transcript.length) return '(the server sent no commands)';
  const rows = transcript.map((e) => [
    e.msgId,
    e.cmdId,
    // Commands inside an Atomic/Sequence are indented under it.
    e.parentCmdId ? `  ${e.verb}` : e.verb,
    e.target,
    e.format ?? '',
    e.answeredStatus ?? '-',
    valueOf(e),
  ]);
  return table(['msg', 'cmdId', 'verb', 'target', 'format', 'status', 'value'], rows);
}

export function sessionSummary(r: SessionResult): string {
  const lines = [
    `device ${r.deviceId}, session ${r.sessionId}: ${r.outcome} after ${r.exchanges.length} ` +
      `exchange(s), ${r.transcript.length} command item(s), ${r.durationMs.toFixed(1)} ms`,
  ];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export function loadSummary(r: LoadReport): string {
  const lines = [
    `${r.devices} device(s), ${r.sessions} session(s), ${r.failures} failed, ` +
      `${(r.wallMs / 1000).toFixed(2)} s`,
    `sessions/s ${r.sessionsPerSecond.toFixed(1)}   p50 ${r.p50Ms.toFixed(1)} ms   ` +
      `p99 ${r.p99Ms.toFixed(1)} ms   max ${r.maxMs.toFixed(1)} ms`,
  ];
  for (const [e, n] of Object.entries(r.errors)) lines.push(`error ×${n}: ${e}`);
  for (const [w, n] of Object.entries(r.warnings)) lines.push(`warning ×${n}: ${w}`);
  return lines.join('\n');
}
