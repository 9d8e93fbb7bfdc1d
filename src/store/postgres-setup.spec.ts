import { chmod, lstat, mkdir, mkdtemp, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hydrateSymlinks } from './postgres-binaries';
import { grantSearch } from './postgres-user';

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mullion-pg-setup-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

describe('hydrateSymlinks (what npm skipped when it did not run the postinstall)', () => {
  it('recreates the listed links relative to their directory, and is idempotent', async () => {
    await mkdir(join(scratch, 'native', 'lib'), { recursive: true });
    await writeFile(join(scratch, 'native', 'lib', 'libpq.so.5.16'), 'lib');
    await writeFile(
      join(scratch, 'native', 'pg-symlinks.json'),
      JSON.stringify([
        { source: 'native/lib/libpq.so.5.16', target: 'native/lib/libpq.so.5' },
        { source: 'native/lib/libpq.so.5.16', target: 'native/lib/libpq.so' },
      ]),
    );
    await hydrateSymlinks(scratch);
    await hydrateSymlinks(scratch);
    for (const name of ['libpq.so.5', 'libpq.so']) {
      const link = join(scratch, 'native', 'lib', name);
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      expect(await readlink(link)).toBe('libpq.so.5.16');
    }
  });
});

describe('grantSearch', () => {
  const account = { name: 'pg-test', uid: 4_000_123, gid: 4_000_123 };

  it('adds only the search bit for others, only where the account cannot search', async () => {
    const closed = join(scratch, 'closed');
    const open = join(closed, 'open');
    await mkdir(join(open, 'postgres'), { recursive: true });
    await chmod(closed, 0o700);
    await chmod(open, 0o755);
    const lines: string[] = [];
    await grantSearch(join(open, 'postgres'), account, (line) => lines.push(line));
    expect((await stat(closed)).mode & 0o777).toBe(0o701);
    expect((await stat(open)).mode & 0o777).toBe(0o755);
    expect(lines.filter((line) => line.includes(`on ${closed} `))).toHaveLength(1);
    expect(lines.some((line) => line.includes(`on ${open} `))).toBe(false);
  });
});
