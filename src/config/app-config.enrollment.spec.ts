import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from './app-config';

describe('loadConfig: enrollment and MASTER_KEY', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mullion-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('generates <dataDir>/master.key once (mode 0600) outside production and reuses it', () => {
    const a = loadConfig({ DATA_DIR: dir });
    const file = join(dir, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(a.enrollment.masterKey.reveal()).toHaveLength(32);
    const b = loadConfig({ DATA_DIR: dir });
    expect(b.enrollment.masterKey.reveal().equals(a.enrollment.masterKey.reveal())).toBe(true);
    expect(
      Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(
        a.enrollment.masterKey.reveal(),
      ),
    ).toBe(true);
  });

  it('takes MASTER_KEY from the environment (hex or base64) and writes nothing', () => {
    const key = Buffer.alloc(32, 9);
    for (const value of [key.toString('hex'), key.toString('base64')]) {
      const c = loadConfig({ DATA_DIR: dir, MASTER_KEY: value });
      expect(c.enrollment.masterKey.reveal().equals(key)).toBe(true);
    }
    expect(() => statSync(join(dir, 'master.key'))).toThrow();
  });

  it('requires MASTER_KEY in production and refuses malformed keys', () => {
    const prod = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), DATA_DIR: dir };
    expect(() => loadConfig(prod)).toThrow(/MASTER_KEY is required/);
    expect(() => loadConfig({ ...prod, MASTER_KEY: 'too-short' })).toThrow(ConfigError);
    writeFileSync(join(dir, 'master.key'), 'not a key\n');
    expect(() => loadConfig({ DATA_DIR: dir })).toThrow(ConfigError);
  });

  it('never prints the key', () => {
    const c = loadConfig({ DATA_DIR: dir });
    const hex = c.enrollment.masterKey.reveal().toString('hex');
    const b64 = c.enrollment.masterKey.reveal().toString('base64');
    for (const text of [
      JSON.stringify(c),
      inspect(c, { depth: 10 }),
      String(c.enrollment.masterKey),
    ]) {
      expect(text).not.toContain(hex);
      expect(text).not.toContain(b64);
      expect(text).not.toContain('"data":[');
    }
  });

  it('validates the enrollment settings', () => {
    const base = { DATA_DIR: dir };
    expect(loadConfig(base).enrollment).toMatchObject({
      providerId: 'mullion',
      caKeyBits: 3072,
      certValidityDays: 365,
      faultHttpStatus: 500,
      tokenDefaultTtlSeconds: 7 * 86400,
      tokenMaxTtlSeconds: 30 * 86400,
      renewPeriodDays: 42,
      renewRetryIntervalDays: 4,
    });
    // A short validity gets a window that fits inside it.
    expect(loadConfig({ ...base, ENROLLMENT_CERT_VALIDITY_DAYS: '30' }).enrollment).toMatchObject({
      renewPeriodDays: 15,
      renewRetryIntervalDays: 4,
    });
    for (const bad of [
      { ENROLLMENT_PROVIDER_ID: 'has space' },
      { ENROLLMENT_CA_KEY_BITS: '1024' },
      { ENROLLMENT_CA_KEY_BITS: '3000' },
      { ENROLLMENT_FAULT_HTTP_STATUS: '404' },
      { ENROLLMENT_TOKEN_DEFAULT_TTL_SECONDS: String(60 * 86400) },
      { ENROLLMENT_CERT_VALIDITY_DAYS: '0' },
      { ENROLLMENT_CERT_VALIDITY_DAYS: '1' },
      { ENROLLMENT_CERT_VALIDITY_DAYS: '30', ENROLLMENT_RENEW_PERIOD_DAYS: '30' },
      { ENROLLMENT_RENEW_PERIOD_DAYS: '10', ENROLLMENT_RENEW_RETRY_DAYS: '11' },
    ]) {
      expect(() => loadConfig({ ...base, ...bad })).toThrow(ConfigError);
    }
  });
});
