import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Enrollment secrets and invitation tokens: random, shown once, stored as SHA-256. Both are typed
 * into Windows' password prompt, so they use Crockford base32 (no I, L, O, U) in groups of four;
 * case, dashes and spaces do not matter. The lengths differ (32 vs 28 characters) so a password
 * says which kind it is before any database read.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 160 bits: shared by every user of an enterprise, valid until rotated. */
export const SECRET_LENGTH = 32;
/** 140 bits: one user, one use, expires. */
export const INVITATION_LENGTH = 28;

export type PasswordKind = 'secret' | 'invitation' | 'unknown';

function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 256 is a multiple of 32: taking the low 5 bits is unbiased.
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] & 31];
  return out;
}

function group(text: string): string {
  return text.match(/.{1,4}/g)?.join('-') ?? text;
}

export function generateEnrollmentSecret(): string {
  return group(randomBase32(SECRET_LENGTH));
}

export function generateInvitationToken(): string {
  return group(randomBase32(INVITATION_LENGTH));
}

/** Upper case without separators; Crockford's look-alikes (O→0, I/L→1) are folded in. */
export function normalizeSecret(input: string): string {
  return input
    .replace(/[\s-]+/g, '')
    .toUpperCase()
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

export function passwordKind(normalized: string): PasswordKind {
  if (!/^[0-9A-HJKMNP-TV-Z]+$/.test(normalized)) return 'unknown';
  if (normalized.length === SECRET_LENGTH) return 'secret';
  if (normalized.length === INVITATION_LENGTH) return 'invitation';
  return 'unknown';
}

/** SHA-256 hex of the normalized value; a high-entropy random value needs no slow KDF. */
export function hashSecret(normalized: string): string {
  return createHash('sha256').update(`mullion-enrollment\0${normalized}`, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex digests (false for different lengths). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
