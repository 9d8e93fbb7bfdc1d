import { FERRETDB_GC, serverEnv } from './server-binary';

describe('serverEnv', () => {
  const url = 'postgres://mullion:secret@127.0.0.1:5432/ferretdb';

  it("gives FerretDB the launcher's collector settings, telemetry off and the PostgreSQL URL", () => {
    const env = serverEnv('ferretdb', { PATH: '/bin', FERRETDB_POSTGRESQL_URL: 'inherited' }, url);
    expect(env).toMatchObject({
      PATH: '/bin',
      GOGC: '400',
      GOMEMLIMIT: '1GiB',
      DO_NOT_TRACK: '1',
      FERRETDB_TELEMETRY: 'disable',
      FERRETDB_POSTGRESQL_URL: url,
    });
    expect(FERRETDB_GC).toEqual({ GOGC: '400', GOMEMLIMIT: '1GiB' });
  });

  it('keeps collector settings the environment sets itself', () => {
    const env = serverEnv('ferretdb', { GOGC: '100', GOMEMLIMIT: '256MiB' }, url);
    expect(env).toMatchObject({ GOGC: '100', GOMEMLIMIT: '256MiB' });
  });

  it('does not pass an inherited FerretDB URL on, nor change what mongod gets', () => {
    expect(serverEnv('ferretdb', { FERRETDB_POSTGRESQL_URL: 'inherited' })).not.toHaveProperty(
      'FERRETDB_POSTGRESQL_URL',
    );
    const env = { PATH: '/bin' };
    expect(serverEnv('mongod', env)).toBe(env);
  });
});
