/** The caller, as read from a verified JWT. */
export interface AuthUser {
  /** `sub`: who acts (stored as a batch's creator). */
  subject: string;
  /** Organizations the token may act on (ids or slugs); `*` = every organization. */
  organizations: string[];
  permissions: string[];
}

/** The JWT claims mullion reads. */
export interface MullionJwtClaims {
  sub?: unknown;
  orgs?: unknown;
  permissions?: unknown;
  exp?: unknown;
}

export function hasPermission(user: AuthUser, required: string): boolean {
  return user.permissions.some(
    (p) => p === required || p === '*' || (p.endsWith('.*') && required.startsWith(p.slice(0, -1))),
  );
}

export function canActOn(user: AuthUser, org: { id: string; slug?: string | null }): boolean {
  return user.organizations.some(
    (o) => o === '*' || o === org.id || (!!org.slug && o === org.slug),
  );
}
