import { FailureLimiter } from './failure-limiter';

describe('FailureLimiter', () => {
  it('blocks a key after max failures within the window, and forgets after it', () => {
    const l = new FailureLimiter(1000);
    for (let i = 1; i <= 3; i++) {
      expect(l.isBlocked('k', 3, 100)).toBe(false);
      expect(l.fail('k', 100 + i)).toBe(i);
    }
    expect(l.isBlocked('k', 3, 500)).toBe(true);
    expect(l.isBlocked('other', 3, 500)).toBe(false);
    expect(l.isBlocked('k', 3, 1100)).toBe(true);
    expect(l.isBlocked('k', 3, 1101)).toBe(false);
    expect(l.fail('k', 1102)).toBe(1);
  });

  it('reset clears a key', () => {
    const l = new FailureLimiter(1000);
    l.fail('k', 0);
    l.fail('k', 0);
    l.reset('k');
    expect(l.isBlocked('k', 1, 0)).toBe(false);
  });

  it('stays within its key bound, evicting expired then oldest keys', () => {
    const l = new FailureLimiter(1000, 3);
    l.fail('a', 0);
    l.fail('b', 10);
    l.fail('c', 2000);
    l.fail('d', 2001);
    // Adding d found the map full: a and b had expired and went; c and d remain.
    expect(l.size).toBe(2);
    l.fail('e', 2002);
    expect(l.size).toBe(3);
    // Full of unexpired keys: the oldest window (c) makes room for f.
    l.fail('f', 2003);
    expect(l.size).toBe(3);
    expect(['c', 'd', 'e', 'f'].filter((k) => l.isBlocked(k, 1, 2004))).toEqual(['d', 'e', 'f']);
  });
});
