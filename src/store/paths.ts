import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';

export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const FERRETDB_VERSION = 'v1.24.2';
/**
 * Names mullion's build of FERRETDB_VERSION (its cache directory): bumped whenever the patches
 * applied before building change (ferretdb-build.ts), so every machine rebuilds once.
 */
export const FERRETDB_BUILD = `${FERRETDB_VERSION}-mullion.2`;

/**
 * Per-user cache for what mullion builds once (FerretDB): `$MULLION_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/mullion`, else `~/.cache/mullion`. Per user, not per checkout, so every
 * clone and CI run on a machine shares one build.
 */
export function mullionCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MULLION_CACHE_DIR) {
    return env.MULLION_CACHE_DIR;
  }
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'mullion');
}

export function ferretdbDir(cacheDir: string): string {
  return join(cacheDir, `ferretdb-${FERRETDB_BUILD}`);
}

export function ferretdbBinaryPath(cacheDir: string): string {
  return join(ferretdbDir(cacheDir), 'ferretdb');
}

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Like `command -v`: the first executable called `name` in the PATH of `env`. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  return dirs.map((dir) => join(dir, name)).find(isExecutableFile);
}
