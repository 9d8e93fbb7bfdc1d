import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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
    const holder = (name: string) =>
      withFileLock(
        lock,
        async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          events.push(`${name}+`);
          await sleep(150);
          events.push(`${name}-`);
          inside--;
          return name;
        },
        { timeoutMs: 10_000 },
      );

    await expect(Promise.all([holder('a'), holder('b')])).resolves.toEqual(['a', 'b']);
    expect(maxInside).toBe(1);
    expect(events).toHaveLength(4);
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
