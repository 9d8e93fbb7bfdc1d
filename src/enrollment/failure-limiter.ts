/**
 * Counts failed enrollment authentications per key (`ip:…`, `user:…`) in fixed windows; a key
 * at its limit is "over the limit" until its window ends. What that means is decided by the
 * caller (EnrollmentAuthService): credentials are always checked first and correct ones always
 * pass, so nobody can lock a user out; beyond the limit a failure only stops telling why it
 * failed. Kept in process memory: with several instances behind a load balancer each keeps its
 * own counts, so the effective limits are multiplied by the instance count — acceptable, as the
 * limits are against noise and probing for detail, not against guessing a 140/160-bit random
 * password.
 */
export class FailureLimiter {
  private readonly entries = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly windowMs: number,
    /** Bound on remembered keys: a flood of distinct usernames cannot grow memory without end. */
    private readonly maxKeys = 100_000,
  ) {}

  isBlocked(key: string, max: number, now: number): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    if (now - e.since >= this.windowMs) {
      this.entries.delete(key);
      return false;
    }
    return e.count >= max;
  }

  fail(key: string, now: number): number {
    const e = this.entries.get(key);
    if (e && now - e.since < this.windowMs) {
      e.count++;
      return e.count;
    }
    if (e) this.entries.delete(key);
    if (this.entries.size >= this.maxKeys) this.evict(now);
    this.entries.set(key, { count: 1, since: now });
    return 1;
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    for (const [key, e] of this.entries) {
      if (now - e.since >= this.windowMs) this.entries.delete(key);
    }
    // Still full: drop the oldest windows (Map keeps insertion order).
    for (const key of this.entries.keys()) {
      if (this.entries.size < this.maxKeys) break;
      this.entries.delete(key);
    }
  }
}
