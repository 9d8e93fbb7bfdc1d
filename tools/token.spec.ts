import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JwtPayload, verify } from 'jsonwebtoken';
import { DEV_SECRET } from '../src/config/app-config';
import { createToken, parseTokenArgs, TokenRequest, UsageError } from './token';

const SECRET = 'token-spec-secret-0123456789';
const decode = (
  token: string,
  secret = SECRET,
  opts: { issuer?: string; audience?: string } = {},
) => verify(token, secret, { algorithms: ['HS256'], ...opts }) as JwtPayload;

const parse = (argv: string[]) => parseTokenArgs(argv) as TokenRequest;

describe('parseTokenArgs', () => {
  it('reads sub, a single org, permissions and the default ttl', () => {
    expect(
      parse(['--sub', 'alice', '--org', 'contoso', '--permissions', 'mdm.windows.command.create']),
    ).toEqual({
      subject: 'alice',
      organizations: ['contoso'],
      permissions: ['mdm.windows.command.create'],
      ttl: '1h',
    });
  });

  it('takes --org repeated and comma-separated, and --opt=value', () => {
    const r = parse([
      '--sub=bob',
      '--org',
      'contoso,6650f1c2a1b2c3d4e5f60718',
      '--org=fabrikam',
      '--permissions',
      'mdm.windows.command.get, mdm.windows.command.list',
    ]);
    expect(r.organizations).toEqual(['contoso', '6650f1c2a1b2c3d4e5f60718', 'fabrikam']);
    expect(r.permissions).toEqual(['mdm.windows.command.get', 'mdm.windows.command.list']);
  });

  it('accepts * for organizations and permissions, and prefix wildcards', () => {
    expect(parse(['--sub', 'ops', '--org', '*', '--permissions', '*'])).toMatchObject({
      organizations: ['*'],
      permissions: ['*'],
    });
    expect(
      parse(['--sub', 'ops', '--org', '*', '--permissions', 'mdm.windows.*']).permissions,
    ).toEqual(['mdm.windows.*']);
  });

  it.each([
    ['3600', 3600],
    ['30s', 30],
    ['15m', 900],
    ['2h', 7200],
    ['7d', 604800],
  ])('reads --ttl %s as %i seconds', (ttl, seconds) => {
    expect(parse(['--sub', 'a', '--org', '*', '--permissions', '*', '--ttl', ttl]).ttl).toBe(
      seconds,
    );
  });

  it('returns help for --help', () => {
    expect(parseTokenArgs(['--help'])).toBe('help');
  });

  it.each([
    ['no arguments', [], /--sub/],
    ['missing --sub', ['--org', '*', '--permissions', '*'], /--sub/],
    ['empty --sub', ['--sub', ' ', '--org', '*', '--permissions', '*'], /--sub/],
    ['missing --org', ['--sub', 'a', '--permissions', '*'], /--org/],
    ['empty --org', ['--sub', 'a', '--org', ',', '--permissions', '*'], /--org/],
    ['bad org', ['--sub', 'a', '--org', 'a_b', '--permissions', '*'], /--org "a_b"/],
    ['missing --permissions', ['--sub', 'a', '--org', '*'], /--permissions/],
    [
      'unknown permission',
      ['--sub', 'a', '--org', '*', '--permissions', 'mdm.windows.comand.create'],
      /unknown permission/,
    ],
    [
      'wildcard matching nothing',
      ['--sub', 'a', '--org', '*', '--permissions', 'nope.*'],
      /unknown permission/,
    ],
    ['bad ttl', ['--sub', 'a', '--org', '*', '--permissions', '*', '--ttl', '1 hour'], /--ttl/],
    ['zero ttl', ['--sub', 'a', '--org', '*', '--permissions', '*', '--ttl', '0'], /--ttl/],
    [
      'ttl over a year',
      ['--sub', 'a', '--org', '*', '--permissions', '*', '--ttl', '400d'],
      /--ttl/,
    ],
    ['unknown option', ['--sub', 'a', '--org', '*', '--permissions', '*', '--admin'], /admin/],
    ['positional', ['--sub', 'a', '--org', '*', '--permissions', '*', 'extra'], /extra/],
    ['option without value', ['--sub'], /sub/],
  ])('refuses %s with a UsageError', (_label, argv, message) => {
    expect(() => parseTokenArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseTokenArgs(argv as string[])).toThrow(message);
  });
});

describe('createToken', () => {
  afterEach(() => jest.useRealTimers());
  const req: TokenRequest = {
    subject: 'alice',
    organizations: ['contoso', '*'],
    permissions: ['mdm.windows.command.create'],
    ttl: 120,
  };

  it('signs HS256 with JWT_SECRET and carries sub, orgs, permissions, iat and exp', () => {
    // A fixed clock: iat is the signing second, exp is iat + ttl.
    jest.useFakeTimers({ now: new Date('2024-05-01T10:00:00.700Z') });
    const token = createToken(req, { JWT_SECRET: SECRET });
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    });
    const claims = decode(token);
    expect(claims).toMatchObject({
      sub: 'alice',
      orgs: ['contoso', '*'],
      permissions: ['mdm.windows.command.create'],
    });
    expect(claims.iat).toBe(Date.UTC(2024, 4, 1, 10, 0, 0) / 1000);
    expect(claims.exp).toBe(claims.iat! + 120);
    expect(claims.iss).toBeUndefined();
    expect(claims.aud).toBeUndefined();
    expect(() => decode(token, 'another-secret-0123456789')).toThrow(/invalid signature/);
  });

  it('falls back to the development secret the server uses when JWT_SECRET is unset', () => {
    const token = createToken(req, {});
    expect(decode(token, DEV_SECRET).sub).toBe('alice');
  });

  it('sets the issuer and audience from JWT_ISSUER / JWT_AUDIENCE', () => {
    const token = createToken(req, {
      JWT_SECRET: SECRET,
      JWT_ISSUER: 'https://idp',
      JWT_AUDIENCE: 'mullion',
    });
    const claims = decode(token, SECRET, { issuer: 'https://idp', audience: 'mullion' });
    expect(claims).toMatchObject({ iss: 'https://idp', aud: 'mullion' });
    expect(() => decode(token, SECRET, { audience: 'other' })).toThrow(/audience/);
  });

  it('defaults to one hour', () => {
    const claims = decode(createToken({ ...req, ttl: '1h' }, { JWT_SECRET: SECRET }));
    expect(claims.exp! - claims.iat!).toBe(3600);
  });

  it('refuses a JWT_SECRET the server would refuse', () => {
    expect(() => createToken(req, { JWT_SECRET: 'short' })).toThrow(/at least 16/);
  });
});

describe('the token script', () => {
  const run = promisify(execFile);
  const script = join(__dirname, 'token.ts');
  const tsNode = require.resolve('ts-node/dist/bin.js');
  const exec = (args: string[]) =>
    run(process.execPath, [tsNode, '--transpile-only', script, ...args], {
      env: { ...process.env, JWT_SECRET: SECRET, JWT_ISSUER: '', JWT_AUDIENCE: '' },
    });

  it('prints only the token on stdout', async () => {
    const { stdout, stderr } = await exec([
      '--sub',
      'cli',
      '--org',
      '*',
      '--permissions',
      '*',
      '--ttl',
      '5m',
    ]);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = decode(stdout.trim());
    expect(claims).toMatchObject({ sub: 'cli', orgs: ['*'], permissions: ['*'] });
    expect(claims.exp! - claims.iat!).toBe(300);
  }, 30000);

  it('exits 2 with the usage on stderr and nothing on stdout for bad arguments', async () => {
    const failure = await exec(['--sub', 'cli', '--org', '*']).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failure).not.toBeNull();
    expect(failure!.code).toBe(2);
    expect(failure!.stdout).toBe('');
    expect(failure!.stderr).toMatch(/--permissions <a,b,...\|\*> is required/);
    expect(failure!.stderr).toMatch(/^Usage: npm run --silent token/m);
  }, 30000);
});
