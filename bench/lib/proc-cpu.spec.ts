import { readFileSync } from 'node:fs';
import {
  cpuMsBetween,
  clockTicks,
  descendantsOf,
  groupTicks,
  parseProcStat,
  storeGroups,
  type CpuSample,
  type ProcStat,
} from './proc-cpu';

/** A stat line as Linux writes it (52 fields), with the fields the parser reads set. */
function statLine(p: Partial<ProcStat> & { pid: number; comm: string }): string {
  const fields = Array.from({ length: 52 }, () => '0');
  fields[2] = 'S';
  fields[3] = String(p.ppid ?? 1);
  fields[13] = String(p.utime ?? 0);
  fields[14] = String(p.stime ?? 0);
  fields[15] = String(p.cutime ?? 0);
  fields[16] = String(p.cstime ?? 0);
  fields[21] = '123456'; // starttime: a large value next to the ones read
  return `${p.pid} (${p.comm}) ${fields.slice(2).join(' ')}\n`;
}

const proc = (pid: number, ppid: number, comm: string, utime = 0, stime = 0): ProcStat => ({
  pid,
  ppid,
  comm,
  utime,
  stime,
  cutime: 0,
  cstime: 0,
});

describe('parseProcStat', () => {
  it('reads pid, name, parent and the four CPU fields by position', () => {
    expect(
      parseProcStat(
        statLine({
          pid: 4242,
          comm: 'ferretdb',
          ppid: 17,
          utime: 311,
          stime: 42,
          cutime: 5,
          cstime: 6,
        }),
      ),
    ).toEqual({
      pid: 4242,
      comm: 'ferretdb',
      ppid: 17,
      utime: 311,
      stime: 42,
      cutime: 5,
      cstime: 6,
    });
  });

  it('finds the fields after a command name holding spaces and parentheses', () => {
    const s = parseProcStat(
      statLine({ pid: 9, comm: 'postgres: a) (b', ppid: 3, utime: 7, stime: 8 }),
    );
    expect(s).toMatchObject({ pid: 9, comm: 'postgres: a) (b', ppid: 3, utime: 7, stime: 8 });
  });

  it('parses this very process from /proc', () => {
    const self = parseProcStat(readFileSync(`/proc/${process.pid}/stat`, 'utf8'));
    expect(self.pid).toBe(process.pid);
    expect(self.ppid).toBe(process.ppid);
    expect(self.utime + self.stime).toBeGreaterThan(0);
  });

  it.each(['', 'garbage', '12 (short) S 1 2'])('refuses %j', (line) => {
    expect(() => parseProcStat(line)).toThrow();
  });
});

describe('descendantsOf and storeGroups', () => {
  const all = [
    proc(1, 0, 'init'),
    proc(100, 1, 'node'), // the server
    proc(101, 100, 'ferretdb'),
    proc(102, 100, 'postgres'), // postmaster
    proc(103, 102, 'postgres'), // a backend
    proc(104, 102, 'postgres'),
    proc(200, 1, 'postgres'), // someone else's PostgreSQL
    proc(105, 100, 'node'), // a worker child of the server
  ];

  it('takes children and grandchildren of the root only', () => {
    expect(
      descendantsOf(100, all)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([101, 102, 103, 104, 105]);
  });

  it('groups the postmaster with its backends and leaves node out', () => {
    const groups = storeGroups(descendantsOf(100, all));
    expect([...groups.keys()].sort()).toEqual(['ferretdb', 'postgres']);
    expect(
      groups
        .get('postgres')
        ?.map((p) => p.pid)
        .sort(),
    ).toEqual([102, 103, 104]);
  });
});

describe('groupTicks', () => {
  it('adds each process its own time since the first sample', () => {
    expect(groupTicks([proc(1, 0, 'a', 10, 5)], [proc(1, 0, 'a', 30, 8)])).toBe(23);
  });

  it('counts all of a process started between the samples', () => {
    expect(
      groupTicks([proc(1, 0, 'a', 10, 5)], [proc(1, 0, 'a', 10, 5), proc(2, 1, 'a', 4, 3)]),
    ).toBe(7);
  });

  it('counts a child that exited between the samples through its parent’s cutime/cstime', () => {
    const before = { ...proc(1, 0, 'postgres', 10, 5), cutime: 100, cstime: 50 };
    const after = { ...proc(1, 0, 'postgres', 11, 5), cutime: 140, cstime: 60 };
    expect(groupTicks([before], [after])).toBe(1 + 40 + 10);
  });
});

describe('cpuMsBetween', () => {
  it('turns tick differences into milliseconds by part', () => {
    const tick = 1000 / clockTicks();
    const a: CpuSample = {
      main: 100,
      process: 150,
      groups: new Map([['ferretdb', [proc(7, 1, 'ferretdb', 10, 0)]]]),
    };
    const b: CpuSample = {
      main: 130,
      process: 200,
      groups: new Map([['ferretdb', [proc(7, 1, 'ferretdb', 12, 1)]]]),
    };
    const ms = cpuMsBetween(a, b);
    expect(ms.get('main')).toBeCloseTo(30 * tick);
    expect(ms.get('process')).toBeCloseTo(50 * tick);
    expect(ms.get('ferretdb')).toBeCloseTo(3 * tick);
  });
});
