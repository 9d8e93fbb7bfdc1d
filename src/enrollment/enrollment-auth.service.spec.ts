import { loadConfig } from '../config/app-config';
import type { DeviceEnrollmentService, DomainLookup } from '../devices/device-enrollment.service';
import type { WinEnterprise } from '../devices/devices.types';
import {
  EnrollmentAuthError,
  EnrollmentAuthService,
  WRONG_CREDENTIALS,
} from './enrollment-auth.service';
import {
  generateEnrollmentSecret,
  generateInvitationToken,
  hashSecret,
  normalizeSecret,
} from './enrollment-secrets';
import type { EnrollmentInvitation, EnrollmentRepository } from './enrollment.repository';

const NOW = new Date('2026-03-01T10:00:00Z');
const enterprise = (id: string, domains: string[]): WinEnterprise => ({
  id,
  organizationId: `org-${id}`,
  name: id,
  status: 'active',
  domains,
  createdAt: NOW,
  updatedAt: NOW,
});

/** Small hand-written fakes of the two collaborators (STYLE.md "Tests"). */
function setup(opts: { maxUser?: number; maxIp?: number } = {}) {
  const config = loadConfig({
    MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    ENROLLMENT_MAX_FAILURES_PER_USER: String(opts.maxUser ?? 3),
    ENROLLMENT_MAX_FAILURES_PER_IP: String(opts.maxIp ?? 100),
  });
  const contoso = enterprise('e1', ['contoso.com']);
  const secret = generateEnrollmentSecret();
  const state = {
    enterprises: [contoso],
    secrets: new Map([[contoso.id, hashSecret(normalizeSecret(secret))]]),
    activeOrgs: new Set([contoso.organizationId]),
    invitations: [] as EnrollmentInvitation[],
    lookups: 0,
  };
  const devices = {
    findEnterpriseById: async (id: string) => state.enterprises.find((e) => e.id === id) ?? null,
    findEnterpriseByDomain: async (domain: string): Promise<DomainLookup> => {
      state.lookups++;
      const found = state.enterprises.filter((e) => e.domains.includes(domain));
      if (found.length > 1) return { kind: 'ambiguous' };
      return found.length
        ? {
            kind: 'found',
            enterprise: found[0],
            secretHash: state.secrets.get(found[0].id) ?? null,
          }
        : { kind: 'none' };
    },
    isOrganizationActive: async (orgId: string) => state.activeOrgs.has(orgId),
  } as unknown as DeviceEnrollmentService;
  const repo = {
    findInvitationByHash: async (hash: string) =>
      state.invitations.find((i) => i.tokenHash === hash) ?? null,
  } as unknown as EnrollmentRepository;
  const invite = (email: string, over: Partial<EnrollmentInvitation> = {}) => {
    const token = generateInvitationToken();
    state.invitations.push({
      id: `inv-${state.invitations.length}`,
      organizationId: contoso.organizationId,
      winEnterpriseId: contoso.id,
      mdmUserId: 'user-1',
      email,
      tokenHash: hashSecret(normalizeSecret(token)),
      expiresAt: new Date(NOW.getTime() + 3600_000),
      usedAt: null,
      createdAt: NOW,
      ...over,
    });
    return token;
  };
  return { auth: new EnrollmentAuthService(config, devices, repo), state, secret, contoso, invite };
}

async function refusal(p: Promise<unknown>): Promise<EnrollmentAuthError> {
  const e = await p.then(
    () => new Error('expected a refusal'),
    (err: unknown) => err,
  );
  if (!(e instanceof EnrollmentAuthError)) throw e;
  return e;
}

describe('EnrollmentAuthService', () => {
  it('accepts the enterprise secret for a user of its domain, case- and format-insensitively', async () => {
    const { auth, secret, contoso } = setup();
    const p = await auth.authenticate(
      ' Alice@Contoso.COM ',
      secret.toLowerCase().replace(/-/g, ''),
      '10.0.0.1',
      NOW,
    );
    expect(p).toEqual({ enterprise: contoso, email: 'alice@contoso.com', via: 'secret' });
  });

  it('refuses a wrong secret (Authentication) and an unknown domain (Authorization)', async () => {
    const { auth } = setup();
    const wrong = generateEnrollmentSecret();
    expect((await refusal(auth.authenticate('a@contoso.com', wrong, 'ip', NOW))).fault).toBe(
      'Authentication',
    );
    expect((await refusal(auth.authenticate('a@contoso.com', '', 'ip', NOW))).fault).toBe(
      'Authentication',
    );
    expect((await refusal(auth.authenticate('a@fabrikam.com', wrong, 'ip', NOW))).fault).toBe(
      'Authorization',
    );
    expect((await refusal(auth.authenticate('not-an-email', wrong, 'ip', NOW))).fault).toBe(
      'Authentication',
    );
  });

  it('refuses a domain claimed twice and a suspended organization (Authorization)', async () => {
    const { auth, state, secret, contoso } = setup();
    state.enterprises.push(enterprise('e2', ['contoso.com']));
    expect((await refusal(auth.authenticate('a@contoso.com', secret, 'ip', NOW))).fault).toBe(
      'Authorization',
    );
    state.enterprises.pop();
    state.activeOrgs.delete(contoso.organizationId);
    expect((await refusal(auth.authenticate('b@contoso.com', secret, 'ip', NOW))).fault).toBe(
      'Authorization',
    );
  });

  it('accepts an unused, unexpired invitation of this user, whatever the domain', async () => {
    const { auth, invite, contoso } = setup();
    const token = invite('bob@gmail.com');
    const p = await auth.authenticate('BOB@gmail.com', token, 'ip', NOW);
    expect(p).toMatchObject({
      enterprise: contoso,
      email: 'bob@gmail.com',
      via: 'invitation',
      invitationId: 'inv-0',
      mdmUserId: 'user-1',
    });
  });

  it('refuses used, expired, mistyped and other users’ invitations with Authentication', async () => {
    const { auth, invite } = setup({ maxUser: 100 });
    const used = invite('u@gmail.com', { usedAt: NOW });
    const expired = invite('x@gmail.com', { expiresAt: NOW });
    const other = invite('o@gmail.com');
    const cases: [string, string, RegExp][] = [
      ['u@gmail.com', used, /already used/],
      ['x@gmail.com', expired, /expired/],
      ['someone@gmail.com', other, /another user/],
      ['o@gmail.com', generateInvitationToken(), /mistyped/],
    ];
    for (const [email, token, reason] of cases) {
      const e = await refusal(auth.authenticate(email, token, 'ip', NOW));
      expect({ email, fault: e.fault }).toEqual({ email, fault: 'Authentication' });
      expect(e.message).toMatch(reason);
    }
  });

  it('never locks a user out: the right secret passes over the limit and clears the count', async () => {
    const { auth, secret } = setup({ maxUser: 3 });
    for (let i = 0; i < 10; i++)
      await refusal(auth.authenticate('a@contoso.com', 'nope', `ip${i}`, NOW));
    const mistyped = () => auth.authenticate('a@contoso.com', generateInvitationToken(), 'ip', NOW);
    expect((await refusal(mistyped())).message).toBe(WRONG_CREDENTIALS);
    await expect(auth.authenticate('A@contoso.com', secret, 'ip-real', NOW)).resolves.toMatchObject(
      { email: 'a@contoso.com', via: 'secret' },
    );
    // The success cleared the username's count: its failures are told apart again.
    expect((await refusal(mistyped())).message).toMatch(/mistyped/);
  });

  it('beyond a username’s limit answers every failure as a wrong password, logging the reason', async () => {
    const { auth, invite } = setup({ maxUser: 2 });
    const used = invite('u@gmail.com', { usedAt: NOW });
    for (let i = 0; i < 2; i++)
      await refusal(auth.authenticate('u@gmail.com', 'nope', `ip${i}`, NOW));
    const e = await refusal(auth.authenticate('u@gmail.com', used, 'ip9', NOW));
    expect({ fault: e.fault, message: e.message }).toEqual({
      fault: 'Authentication',
      message: WRONG_CREDENTIALS,
    });
    expect(e.opts.logDetail).toMatch(/already used.*over the failure limit/);
    // The window passes: the real reason is told again.
    const later = new Date(NOW.getTime() + 16 * 60_000);
    expect((await refusal(auth.authenticate('u@gmail.com', used, 'ip9', later))).message).toMatch(
      /already used/,
    );
  });

  it('counts failures per source address: beyond its limit its failures say nothing more', async () => {
    const { auth, secret } = setup({ maxUser: 100, maxIp: 4 });
    for (let i = 0; i < 4; i++)
      await refusal(auth.authenticate(`u${i}@contoso.com`, 'nope', '203.0.113.9', NOW));
    // Over the limit: an unknown domain is no longer told apart from a wrong password…
    const masked = await refusal(auth.authenticate('x@fabrikam.com', 'nope', '203.0.113.9', NOW));
    expect({ fault: masked.fault, message: masked.message }).toEqual({
      fault: 'Authentication',
      message: WRONG_CREDENTIALS,
    });
    // …but the right secret still passes from there, and other addresses are unaffected.
    await expect(
      auth.authenticate('new@contoso.com', secret, '203.0.113.9', NOW),
    ).resolves.toMatchObject({ via: 'secret' });
    expect(
      (await refusal(auth.authenticate('x@fabrikam.com', 'nope', '198.51.100.1', NOW))).fault,
    ).toBe('Authorization');
  });

  it('does not count a right password refused for another reason (suspended organization)', async () => {
    const { auth, state, secret, contoso } = setup({ maxUser: 1, maxIp: 1 });
    state.activeOrgs.delete(contoso.organizationId);
    for (let i = 0; i < 3; i++) {
      const e = await refusal(auth.authenticate('a@contoso.com', secret, 'ip', NOW));
      expect({ fault: e.fault, message: e.message }).toEqual({
        fault: 'Authorization',
        message: 'The organization is not active',
      });
    }
    // Nothing was counted: the first wrong password is still told apart.
    expect((await refusal(auth.authenticate('a@fabrikam.com', 'x', 'ip', NOW))).fault).toBe(
      'Authorization',
    );
  });
});
