import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createSelfSignedIdentity } from './identity';
import type { DeviceIdentity } from './types';

/** Device identities on disk, for load runs (`--cert-dir`, `--manifest`). */
export class IdentityFileError extends Error {}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new IdentityFileError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Every `<id>.crt` with its `<id>.key` in `dir`, sorted by id. */
export function identitiesFromDir(dir: string): DeviceIdentity[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new IdentityFileError(`cannot read directory ${dir}: ${(e as Error).message}`);
  }
  return names
    .filter((n) => n.endsWith('.crt') && names.includes(`${n.slice(0, -4)}.key`))
    .sort()
    .map((n) => {
      const deviceId = n.slice(0, -4);
      return {
        deviceId,
        cert: read(join(dir, n), 'certificate'),
        key: read(join(dir, `${deviceId}.key`), 'key'),
      };
    });
}

type ManifestEntry = Record<'deviceId' | 'cert' | 'key', string>;

const isEntry = (e: unknown): e is ManifestEntry =>
  typeof e === 'object' &&
  e !== null &&
  ['deviceId', 'cert', 'key'].every((k) => typeof (e as Record<string, unknown>)[k] === 'string');

/** A JSON manifest `[{deviceId, cert, key}]`, paths relative to the manifest's directory. */
export function identitiesFromManifest(file: string): DeviceIdentity[] {
  let list: unknown;
  try {
    list = JSON.parse(read(file, 'manifest'));
  } catch (e) {
    if (e instanceof IdentityFileError) throw e;
    throw new IdentityFileError(`manifest ${file} is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list) || !list.every(isEntry)) {
    throw new IdentityFileError(`manifest ${file} must be [{"deviceId", "cert", "key"}, …]`);
  }
  const base = dirname(resolve(file));
  return list.map((e) => ({
    deviceId: e.deviceId,
    cert: read(resolve(base, e.cert), 'certificate'),
    key: read(resolve(base, e.key), 'key'),
  }));
}

/**
 * Writes a self-signed identity per device id as `<id>.crt` / `<id>.key` (key mode 0600) and a
 * `manifest.json` listing them; returns the certificate paths.
 */
export async function writeIdentities(
  dir: string,
  deviceIds: readonly string[],
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const manifest: ManifestEntry[] = [];
  const written: string[] = [];
  for (const deviceId of deviceIds) {
    const id = await createSelfSignedIdentity(deviceId);
    writeFileSync(join(dir, `${deviceId}.crt`), id.cert);
    writeFileSync(join(dir, `${deviceId}.key`), id.key, { mode: 0o600 });
    manifest.push({ deviceId, cert: `${deviceId}.crt`, key: `${deviceId}.key` });
    written.push(join(dir, `${deviceId}.crt`));
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return written;
}
