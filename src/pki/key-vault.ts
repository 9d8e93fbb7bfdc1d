import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope for private keys at rest: AES-256-GCM under the MASTER_KEY, stored as
 * `v1:<iv b64>:<tag b64>:<ciphertext b64>`. NIST SP 800-38D: 96-bit random IV, 128-bit tag.
 * An optional context string (e.g. the enterprise id) is bound as additional authenticated
 * data, so a sealed key copied onto another record does not open there.
 */

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const MASTER_KEY_BYTES = 32;

export type KeyVaultErrorReason = 'malformed' | 'unsupported-version' | 'auth-failed' | 'bad-key';

export class KeyVaultError extends Error {
  override readonly name = 'KeyVaultError';
  constructor(
    readonly reason: KeyVaultErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export function sealPrivateKey(pem: string, masterKey: Buffer, context = ''): string {
  assertMasterKey(masterKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, masterKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(context));
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, ciphertext].map((p) => (typeof p === 'string' ? p : b64(p))).join(':');
}

/** Throws KeyVaultError('auth-failed') for a wrong key, a wrong context or any tampering. */
export function openPrivateKey(sealed: string, masterKey: Buffer, context = ''): string {
  assertMasterKey(masterKey);
  const parts = sealed.split(':');
  if (parts.length !== 4) throw new KeyVaultError('malformed', 'sealed key has the wrong shape');
  const [version, ivB64, tagB64, ctB64] = parts;
  if (version !== VERSION) {
    throw new KeyVaultError('unsupported-version', `unsupported sealed key version "${version}"`);
  }
  const iv = fromB64(ivB64, 'iv');
  const tag = fromB64(tagB64, 'tag');
  const ciphertext = fromB64(ctB64, 'ciphertext');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES || ciphertext.length === 0) {
    throw new KeyVaultError('malformed', 'sealed key has wrong field sizes');
  }
  const decipher = createDecipheriv(ALGORITHM, masterKey, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyVaultError(
      'auth-failed',
      'sealed key failed authentication (wrong key or tampered)',
    );
  }
}

export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/**
 * Reads MASTER_KEY: 32 bytes as 64 hex characters or as base64 / base64url (44 characters
 * with padding, 43 without). Hex is tried first because a hex string is also valid base64.
 */
export function parseMasterKey(value: string | undefined, variable = 'MASTER_KEY'): Buffer {
  const text = value?.trim() ?? '';
  if (!text) throw new MasterKeyError(`${variable} is not set`);
  let key: Buffer;
  let encoding: string;
  // 43 characters is unpadded base64 of 32 bytes, which may happen to use only hex digits.
  if (/^[0-9a-fA-F]+$/.test(text) && text.length !== 43) {
    if (text.length % 2 !== 0)
      throw new MasterKeyError(`${variable} has an odd number of hex digits`);
    key = Buffer.from(text, 'hex');
    encoding = 'hex';
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    encoding = 'base64';
  } else {
    throw new MasterKeyError(`${variable} must be hex or base64 (it contains other characters)`);
  }
  if (key.length !== MASTER_KEY_BYTES) {
    throw new MasterKeyError(
      `${variable} must decode to ${MASTER_KEY_BYTES} bytes (64 hex or 44 base64 characters), ` +
        `got ${key.length} bytes of ${encoding}; generate one with: openssl rand -base64 32`,
    );
  }
  return key;
}

/** A fresh master key, base64, for a local data directory. */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('base64');
}

function assertMasterKey(masterKey: Buffer): void {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== MASTER_KEY_BYTES) {
    throw new KeyVaultError('bad-key', `master key must be ${MASTER_KEY_BYTES} bytes`);
  }
}

function aad(context: string): Buffer {
  return Buffer.from(`${VERSION}\0${context}`, 'utf8');
}

function b64(buf: Buffer): string {
  return buf.toString('base64');
}

function fromB64(text: string, field: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new KeyVaultError('malformed', `sealed key ${field} is not base64`);
  }
  return Buffer.from(text, 'base64');
}
