import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEV_SECRET, loadConfig as load } from './app-config';

// A data directory of its own: outside production, loading generates DATA_DIR/master.key.
const dataDir = mkdtempSync(join(tmpdir(), 'mullion-config-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const loadConfig = (env: Record<string, string>) => load({ DATA_DIR: dataDir, ...env });

describe('loadConfig', () => {
  it('uses the development secret only while every listener is on loopback', () => {
    expect(loadConfig({}).jwt.secret).toBe(DEV_SECRET);
    expect(loadConfig({ HOST: '127.0.0.1', DEVICE_HOST: 'localhost' }).jwt.secret).toBe(DEV_SECRET);
    expect(() => loadConfig({ HOST: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => loadConfig({ DEVICE_HOST: '0.0.0.0' })).toThrow(
      /JWT_SECRET .* beyond loopback \(0\.0\.0\.0\)/,
    );
    expect(
      loadConfig({ DEVICE_HOST: '0.0.0.0', JWT_SECRET: 'a-real-secret-of-32-characters!!' }).jwt
        .secret,
    ).toBe('a-real-secret-of-32-characters!!');
  });

  it('treats empty variables as unset (an empty HOST must not mean every interface)', () => {
    expect(loadConfig({ HOST: '', PORT: '', PUBLIC_BASE_URL: ' ' }).host).toBe('127.0.0.1');
  });

  it('refuses bad values with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT must be an integer/);
    expect(() => loadConfig({ COMMANDS_MAX_PER_BATCH: '0' })).toThrow(/COMMANDS_MAX_PER_BATCH/);
    expect(() => loadConfig({ MONGODB_URI: 'http://x' })).toThrow(/MONGODB_URI/);
    expect(() => loadConfig({ DEVICE_CLIENT_CERT_HEADER: 'x-cert' })).toThrow(
      /DEVICE_TRUSTED_PROXIES/,
    );
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/at least 16/);
    expect(() => loadConfig({ STORE_ENGINE: 'sqlite3' })).toThrow(
      /STORE_ENGINE must be postgres or sqlite/,
    );
  });

  it('runs the embedded store on PostgreSQL unless STORE_ENGINE=sqlite', () => {
    expect(loadConfig({}).store.engine).toBe('postgres');
    expect(loadConfig({ STORE_ENGINE: 'sqlite' }).store.engine).toBe('sqlite');
  });

  it('posts the WNS client secret only over https, or over http to this machine', () => {
    const wns = (url: string) =>
      loadConfig({ WNS_PACKAGE_SID: 'ms-app://s-1', WNS_CLIENT_SECRET: 'x', WNS_TOKEN_URL: url })
        .push.tokenUrl;
    expect(wns('https://login.live.com/accesstoken.srf')).toBe(
      'https://login.live.com/accesstoken.srf',
    );
    expect(wns('http://127.0.0.1:4100/token')).toBe('http://127.0.0.1:4100/token');
    expect(() => wns('http://login.live.com/accesstoken.srf')).toThrow(/WNS_TOKEN_URL/);
    expect(() => wns('ftp://127.0.0.1/token')).toThrow(/WNS_TOKEN_URL/);
    expect(() => wns('not a url')).toThrow(/WNS_TOKEN_URL/);
  });
});
