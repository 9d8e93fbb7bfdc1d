import { labelDeltas, LabelTally, targetCountId } from './target-counts';

describe('target counts', () => {
  it('a label change adds one to the labels added and takes one from those removed', () => {
    expect(labelDeltas(['a', 'b', 'b'], ['b', 'c', 'c'])).toEqual(
      new Map([
        ['c', 1],
        ['a', -1],
      ]),
    );
    expect(labelDeltas(['a'], ['a'])).toEqual(new Map());
  });

  it('tallies every device once, and each label once per device', () => {
    const t = new LabelTally();
    t.add(['a', 'a']);
    t.add(undefined);
    t.add(['b', 'a']);
    expect(t.all).toBe(3);
    expect(t.labels).toEqual(
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
  });

  it('names counters so that a label with a colon never collides with another enterprise', () => {
    expect(targetCountId('0123456789abcdef01234567', null)).toBe('0123456789abcdef01234567');
    expect(targetCountId('0123456789abcdef01234567', 'a:b')).toBe('0123456789abcdef01234567:a:b');
  });
});
