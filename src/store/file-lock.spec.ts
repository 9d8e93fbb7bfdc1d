import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFileLock } from './file-lock';

describe('withFileLock', () => {
  let dir: string;
  let lock: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mullion-lock-'));
    lock = join(dir, 'build.lock');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('never lets two holders overlap, and removes the lock afterwards', async () => {
    let inside = 0;
    let maxInside = 0;
    const events: string[] = [];
    // The first holder keeps the lock until the second has found it held and started waiting:
    // an overlap, if the lock allowed one, could not be missed by timing.
    let contended!: () => void;
    const waiting = new Promise<void>((resolve) => (contended = resolve));
    const holder = (name: string) =>
      withFileLock(
        lock,
        async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          events.push(`${name}+`);
          // The first holder in waits; a second one inside (a broken lock) releases it.
          if (events.length === 1) await waiting;
          else contended();
          events.push(`${name}-`);
          inside--;
          return name;
        },
        { timeoutMs: 10_000, onWait: () => contended() },
      );

    await expect(Promise.all([holder('a'), holder('b')])).resolves.toEqual(['a', 'b']);
    expect(maxInside).toBe(1);
    const [first, second] = events[0] === 'a+' ? ['a', 'b'] : ['b', 'a'];
    expect(events).toEqual([`${first}+`, `${first}-`, `${second}+`, `${second}-`]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(lock, String(dead));
    await expect(withFileLock(lock, async () => 'ran', { timeoutMs: 2_000 })).resolves.toBe('ran');
  });

  it('waits for a live holder, reports it once, then gives up with advice', async () => {
    await writeFile(lock, String(process.pid));
    const waitedFor: Array<number | undefined> = [];
    await expect(
      withFileLock(lock, async () => 'ran', {
        timeoutMs: 1_200,
        onWait: (pid) => waitedFor.push(pid),
      }),
    ).rejects.toThrow(/held by pid \d+.*delete the file/);
    expect(waitedFor).toEqual([process.pid]);
  });
});
