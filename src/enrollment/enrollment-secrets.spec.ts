import {
  INVITATION_LENGTH,
  SECRET_LENGTH,
  digestsEqual,
  generateEnrollmentSecret,
  generateInvitationToken,
  hashSecret,
  normalizeSecret,
  passwordKind,
} from './enrollment-secrets';

describe('enrollment secrets and invitation tokens', () => {
  it('generates grouped Crockford base32 of distinct lengths', () => {
    const secret = generateEnrollmentSecret();
    const token = generateInvitationToken();
    expect(secret).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){7}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(token).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(normalizeSecret(secret)).toHaveLength(SECRET_LENGTH);
    expect(normalizeSecret(token)).toHaveLength(INVITATION_LENGTH);
    expect(passwordKind(normalizeSecret(secret))).toBe('secret');
    expect(passwordKind(normalizeSecret(token))).toBe('invitation');
  });

  it('does not repeat (1000 draws)', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generateInvitationToken()));
    expect(seen.size).toBe(1000);
  });

  it('ignores case, dashes and spaces, and folds look-alike letters', () => {
    const token = generateInvitationToken();
    const typed = ` ${token.toLowerCase().replace(/-/g, ' ')} `;
    expect(normalizeSecret(typed)).toBe(token.replace(/-/g, ''));
    expect(normalizeSecret('o0-iL1')).toBe('00111');
  });

  it('classifies anything else as unknown', () => {
    expect(passwordKind('')).toBe('unknown');
    expect(passwordKind('A'.repeat(30))).toBe('unknown');
    expect(passwordKind(`${'A'.repeat(27)}U`)).toBe('unknown');
    expect(passwordKind(`${'A'.repeat(27)}!`)).toBe('unknown');
  });

  it('hashes to SHA-256 hex that differs per value and compares digests', () => {
    const a = hashSecret('ABC');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret('ABC')).toBe(a);
    expect(hashSecret('ABD')).not.toBe(a);
    expect(digestsEqual(a, hashSecret('ABC'))).toBe(true);
    expect(digestsEqual(a, hashSecret('ABD'))).toBe(false);
    expect(digestsEqual(a, a.slice(0, 62))).toBe(false);
    expect(digestsEqual('', '')).toBe(false);
  });
});
