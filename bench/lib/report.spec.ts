import { f1, median, parseSizes, percentile, ratio, table } from './report';

describe('percentile (nearest rank)', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);

  it.each([
    [50, 50],
    [99, 99],
    [100, 100],
    [1, 1],
    [0, 1],
  ])('p%d of 1..100 is %d', (p, want) => {
    expect(percentile(values, p)).toBe(want);
  });

  it('is the only value for one value, the middle one of three', () => {
    expect(percentile([10], 99)).toBe(10);
    expect(percentile([10, 20, 30], 50)).toBe(20);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it('median sorts first', () => {
    expect(median([30, 10, 20])).toBe(20);
  });
});

describe('ratio and f1', () => {
  it('prints value / base with two decimals', () => {
    expect(ratio(15, 10)).toBe('1.50×');
  });

  it.each([
    [1, 0],
    [NaN, 1],
    [1, NaN],
  ])('is "-" for %p / %p', (v, b) => {
    expect(ratio(v, b)).toBe('-');
  });

  it('f1 prints "-" for what could not be measured', () => {
    expect(f1(Infinity)).toBe('-');
    expect(f1(2.25)).toBe('2.3');
  });
});

describe('table', () => {
  it('aligns figures right and the first and last columns left, under a rule', () => {
    const text = table([
      ['name', 'n', 'note'],
      ['a', '1000', 'x'],
      ['longer', '7', ''],
    ]);
    expect(text.split('\n')).toEqual([
      'name       n  note',
      '------  ----  ----',
      'a       1000  x',
      'longer     7',
    ]);
  });
});

describe('parseSizes', () => {
  it('reads a comma list with k and m suffixes', () => {
    expect(parseSizes('10000,100k,1m')).toEqual([10_000, 100_000, 1_000_000]);
  });

  it.each(['', '10,abc', '0', '100,10', '10,10', '1.5', '-5'])('refuses %j', (raw) => {
    expect(() => parseSizes(raw)).toThrow();
  });
});
