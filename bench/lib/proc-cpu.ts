/*
 * CPU time of processes and threads from Linux's /proc (proc(5)): what the server's main thread
 * and each store process spent during a timed part, independent of the load generator.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) the benches use. */
export interface ProcStat {
  pid: number;
  /** Field 2 without its parentheses (the executable name, at most 15 bytes). */
  comm: string;
  ppid: number;
  /** Fields 14-17, in clock ticks: own user/system time, and that of reaped children. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/**
 * Parses one stat line. The command name (field 2) is in parentheses and may itself contain
 * spaces or ')', so the fields after it are found from the last ')'.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  const rest = line
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state): field n is rest[n - 3].
  const field = (n: number): number => {
    const v = Number(rest[n - 3]);
    if (!Number.isInteger(v))
      throw new Error(`/proc stat field ${n} missing: ${line.slice(0, 80)}`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
}

let ticks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux builds almost everywhere). */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

function readStat(path: string): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The main thread of `pid` alone (its task whose id is the pid): Node's event loop. */
export const mainThreadStat = (pid: number): ProcStat | undefined =>
  readStat(`/proc/${pid}/task/${pid}/stat`);

/** Every process visible in /proc now. */
export function listProcesses(): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(`/proc/${name}/stat`);
    if (s) out.push(s);
  }
  return out;
}

/** The processes below `root` (children, their children, …), not `root` itself. */
export function descendantsOf(root: number, all: readonly ProcStat[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of all) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcStat[] = [];
  const stack = [...(byParent.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop() as ProcStat;
    out.push(p);
    stack.push(...(byParent.get(p.pid) ?? []));
  }
  return out;
}

/**
 * The store process groups among a server's descendants, by executable name: `ferretdb`, and
 * `postgres` for the postmaster and every backend it forks. Other names (e.g. `mongod`) keep
 * their own group.
 */
export function storeGroups(descendants: readonly ProcStat[]): Map<string, ProcStat[]> {
  const groups = new Map<string, ProcStat[]>();
  for (const p of descendants) {
    const name = p.comm.startsWith('postgres') ? 'postgres' : p.comm;
    if (name === 'node' || name === 'sh' || name === 'getconf') continue;
    groups.set(name, [...(groups.get(name) ?? []), p]);
  }
  return groups;
}

/**
 * Ticks a group of processes spent between two samples: each process's own time since `before`
 * (all of it for one started since), plus what its reaped children added to cutime/cstime (a
 * PostgreSQL backend that exited between the samples is counted through the postmaster).
 */
export function groupTicks(before: readonly ProcStat[], after: readonly ProcStat[]): number {
  const prev = new Map(before.map((p) => [p.pid, p]));
  let sum = 0;
  for (const p of after) {
    const b = prev.get(p.pid);
    sum += p.utime + p.stime - (b ? b.utime + b.stime : 0);
    if (b) sum += p.cutime + p.cstime - (b.cutime + b.cstime);
  }
  return sum;
}

/** One sample of a server's CPU: its main thread, the whole process and its store groups. */
export interface CpuSample {
  main: number;
  process: number;
  groups: Map<string, ProcStat[]>;
}

export function sampleServer(pid: number): CpuSample {
  const all = listProcesses();
  const self = all.find((p) => p.pid === pid);
  const main = mainThreadStat(pid);
  return {
    main: main ? main.utime + main.stime : NaN,
    process: self ? self.utime + self.stime : NaN,
    groups: storeGroups(descendantsOf(pid, all)),
  };
}

/** Milliseconds of CPU between two samples, by part: `main`, `process` and each store group. */
export function cpuMsBetween(a: CpuSample, b: CpuSample): Map<string, number> {
  const ms = 1000 / clockTicks();
  const out = new Map<string, number>([
    ['main', (b.main - a.main) * ms],
    ['process', (b.process - a.process) * ms],
  ]);
  for (const [name, after] of b.groups) {
    out.set(name, groupTicks(a.groups.get(name) ?? [], after) * ms);
  }
  return out;
}

/** CPU ms of one process (all its threads) so far. */
export function processCpuMs(pid: number): number {
  const s = readStat(`/proc/${pid}/stat`);
  return s ? ((s.utime + s.stime) * 1000) / clockTicks() : NaN;
}
