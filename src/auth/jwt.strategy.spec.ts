import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { sign } from 'jsonwebtoken';
import type { AppConfig } from '../config/app-config';
import type { AuthUser } from './auth-user';
import { JwtStrategy, verificationKey } from './jwt.strategy';

const CLAIMS = { sub: 'admin', orgs: ['*'], permissions: ['*'] };

function strategy(jwt: Partial<AppConfig['jwt']>): JwtStrategy {
  const config = { jwt: { algorithms: ['HS256'], ...jwt } } as unknown as AppConfig;
  return new JwtStrategy(config);
}

/** Runs the passport strategy on a request bearing `token`: the user it accepts, or null. */
function authenticate(s: JwtStrategy, token: string): Promise<AuthUser | null> {
  const req = { headers: { authorization: `Bearer ${token}` } };
  return new Promise((resolve, reject) => {
    const run = s as unknown as {
      success: (user: AuthUser) => void;
      fail: () => void;
      error: (e: unknown) => void;
      authenticate: (req: unknown, options: object) => void;
    };
    run.success = (user) => resolve(user);
    run.fail = () => resolve(null);
    run.error = reject;
    run.authenticate(req, {});
  });
}

describe('verificationKey', () => {
  it('makes a secret key of a shared secret, and a public key of a PEM public key', () => {
    expect(verificationKey(randomBytes(32).toString('hex')).type).toBe('secret');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verificationKey(pem).type).toBe('public');
  });
});

describe('JwtStrategy with a key built once', () => {
  const secret = randomBytes(32).toString('hex');

  it('accepts an HS256 token signed with the secret and refuses one signed with another', async () => {
    const s = strategy({ secret });
    const good = sign(CLAIMS, secret, { algorithm: 'HS256', expiresIn: 60 });
    const bad = sign(CLAIMS, `${secret}x`, { algorithm: 'HS256', expiresIn: 60 });
    await expect(authenticate(s, good)).resolves.toEqual({
      subject: 'admin',
      organizations: ['*'],
      permissions: ['*'],
    });
    // Twice: the key object is reused, not consumed by the first verification.
    await expect(authenticate(s, good)).resolves.toMatchObject({ subject: 'admin' });
    await expect(authenticate(s, bad)).resolves.toBeNull();
  });

  it('verifies RS256 with a public key and refuses an HS256 token signed with that PEM text', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const s = strategy({ publicKey: pem, algorithms: ['RS256'] });
    const good = sign(CLAIMS, privateKey, { algorithm: 'RS256', expiresIn: 60 });
    await expect(authenticate(s, good)).resolves.toMatchObject({ subject: 'admin' });
    // The classic confusion attack: the public key's text used as an HMAC secret.
    const forged = sign(CLAIMS, pem, { algorithm: 'HS256', expiresIn: 60 });
    await expect(authenticate(s, forged)).resolves.toBeNull();
  });
});
