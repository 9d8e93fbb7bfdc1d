import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DATA_DIR_LOCK_FILE, DataDirInUseError, lockDataDir } from './data-dir-lock';
import { startTimeOf, waitUntilGone } from './processes';

let dir: string;
let lockFile: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mullion-data-lock-'));
  lockFile = join(dir, DATA_DIR_LOCK_FILE);
});
afterEach(async () => {
  children.splice(0).forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
  await rm(dir, { recursive: true, force: true });
});

/** A separate node process that takes the lock on `dir`, says so, then does `then`. */
async function holderProcess(then: string): Promise<ChildProcess> {
  const script = `
    require('ts-node').register({ transpileOnly: true });
    const { lockDataDir } = require(${JSON.stringify(join(__dirname, 'data-dir-lock'))});
    lockDataDir(${JSON.stringify(dir)}).then(() => { process.stdout.write('locked\\n'); ${then} });`;
  const child = spawn(process.execPath, ['-e', script], {
    cwd: resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(line.toString()).toBe('locked\n');
  return child;
}

function exited(child: ChildProcess): Promise<unknown> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : once(child, 'exit');
}

describe('lockDataDir', () => {
  it('refuses a second holder, naming the directory, the holder and what to do', async () => {
    const holder = await holderProcess('setInterval(() => undefined, 1000);');

    const attempt = lockDataDir(dir);
    await expect(attempt).rejects.toThrow(DataDirInUseError);
    await expect(attempt).rejects.toMatchObject({ dataDir: dir, holderPid: holder.pid });
    const message = ((await attempt.catch((e: unknown) => e)) as Error).message;
    expect(message).toContain(`The data directory ${dir} is in use`);
    expect(message).toContain(`pid ${holder.pid}`);
    expect(message).toContain(`kill ${holder.pid}`);
    expect(message).toMatch(/DATA_DIR=\S+ npm start/);
    // The refused attempt left the holder's lock as it was.
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: holder.pid });
  });

  it('takes over the lock of a holder killed without a chance to release it', async () => {
    const holder = await holderProcess('setInterval(() => undefined, 1000);');
    holder.kill('SIGKILL');
    await exited(holder);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: holder.pid });

    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it('takes over a lock whose pid now belongs to a different process', async () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(lockFile, JSON.stringify({ pid: dead }));
    (await lockDataDir(dir)).release();

    // A live pid with another start time: the holder died and its pid was handed out again.
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)']);
    children.push(stranger);
    await once(stranger, 'spawn');
    const startTime = startTimeOf(stranger.pid!);
    expect(startTime).toBeDefined(); // Linux /proc, as on every machine this project runs on
    await writeFile(lockFile, JSON.stringify({ pid: stranger.pid, startTime: startTime! - 1 }));
    (await lockDataDir(dir)).release();
    expect(existsSync(lockFile)).toBe(false);
  });

  it('refuses a second store in the same process until the first releases', async () => {
    const first = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toMatchObject({ holderPid: process.pid });
    first.release();
    first.release(); // idempotent: must not remove a lock taken since
    const second = await lockDataDir(dir);
    first.release();
    expect(existsSync(lockFile)).toBe(true);
    second.release();
  });

  it('is removed when its holder exits normally', async () => {
    const holder = await holderProcess('process.exit(0);');
    await exited(holder);
    expect(await waitUntilGone(holder.pid!, 5_000)).toBe(true);
    expect(existsSync(lockFile)).toBe(false);
  });
});
