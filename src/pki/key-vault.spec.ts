import { randomBytes } from 'node:crypto';
import {
  KeyVaultError,
  KeyVaultErrorReason,
  MasterKeyError,
  generateMasterKey,
  openPrivateKey,
  parseMasterKey,
  sealPrivateKey,
} from './key-vault';

const PEM =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n';
const key = randomBytes(32);

function reasonOf(fn: () => unknown): KeyVaultErrorReason | 'no-error' | 'other-error' {
  try {
    fn();
    return 'no-error';
  } catch (err) {
    return err instanceof KeyVaultError ? err.reason : 'other-error';
  }
}

function mutate(sealed: string, field: 1 | 2 | 3): string {
  const parts = sealed.split(':');
  const bytes = Buffer.from(parts[field], 'base64');
  bytes[0] ^= 0x01;
  parts[field] = bytes.toString('base64');
  return parts.join(':');
}

describe('sealPrivateKey / openPrivateKey', () => {
  it('round-trips and uses the v1 format with a 12-byte IV and 16-byte tag', () => {
    const sealed = sealPrivateKey(PEM, key);
    const [version, iv, tag, ciphertext] = sealed.split(':');
    expect(version).toBe('v1');
    expect(Buffer.from(iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64')).toHaveLength(16);
    expect(Buffer.from(ciphertext, 'base64')).toHaveLength(Buffer.byteLength(PEM));
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(openPrivateKey(sealed, key)).toBe(PEM);
  });

  it('uses a fresh IV every time', () => {
    expect(sealPrivateKey(PEM, key)).not.toBe(sealPrivateKey(PEM, key));
  });

  it('fails authentication with a wrong key', () => {
    expect(reasonOf(() => openPrivateKey(sealPrivateKey(PEM, key), randomBytes(32)))).toBe(
      'auth-failed',
    );
  });

  it.each([1, 2, 3] as const)('fails authentication when field %i is tampered with', (field) => {
    expect(reasonOf(() => openPrivateKey(mutate(sealPrivateKey(PEM, key), field), key))).toBe(
      'auth-failed',
    );
  });

  it('binds the optional context', () => {
    const sealed = sealPrivateKey(PEM, key, 'enterprise-1');
    expect(openPrivateKey(sealed, key, 'enterprise-1')).toBe(PEM);
    expect(reasonOf(() => openPrivateKey(sealed, key, 'enterprise-2'))).toBe('auth-failed');
    expect(reasonOf(() => openPrivateKey(sealed, key))).toBe('auth-failed');
  });

  it.each([
    ['malformed', 'v1:abc'],
    ['malformed', 'v1:***:AAAA:AAAA'],
    [
      'malformed',
      `v1:${Buffer.alloc(8).toString('base64')}:${Buffer.alloc(16).toString('base64')}:AAAA`,
    ],
    ['unsupported-version', 'v2:AAAA:AAAA:AAAA'],
  ])('reports %s for %p', (reason, sealed) => {
    expect(reasonOf(() => openPrivateKey(sealed, key))).toBe(reason);
  });

  it('refuses a master key that is not 32 bytes', () => {
    expect(reasonOf(() => sealPrivateKey(PEM, randomBytes(16)))).toBe('bad-key');
    expect(reasonOf(() => openPrivateKey('v1:AAAA:AAAA:AAAA', randomBytes(31)))).toBe('bad-key');
  });
});

describe('parseMasterKey', () => {
  const raw = randomBytes(32);

  it.each([
    ['hex', raw.toString('hex')],
    ['upper-case hex', raw.toString('hex').toUpperCase()],
    ['base64', raw.toString('base64')],
    ['unpadded base64url', raw.toString('base64url')],
    ['base64 with surrounding whitespace', ` ${raw.toString('base64')}\n`],
  ])('reads %s', (_label, text) => {
    expect(parseMasterKey(text).equals(raw)).toBe(true);
  });

  it('reads a generated key', () => {
    expect(parseMasterKey(generateMasterKey())).toHaveLength(32);
  });

  it.each([
    [undefined, /MASTER_KEY is not set/],
    ['   ', /MASTER_KEY is not set/],
    [randomBytes(16).toString('hex'), /32 bytes .*got 16 bytes of hex/],
    [randomBytes(48).toString('base64'), /got 48 bytes of base64/],
    ['abc', /odd number of hex digits/],
    ['not a key!', /must be hex or base64/],
  ])('rejects %p with a clear message', (text, message) => {
    expect(() => parseMasterKey(text)).toThrow(MasterKeyError);
    expect(() => parseMasterKey(text)).toThrow(message);
  });
});
