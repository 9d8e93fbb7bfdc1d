import { parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    [3600, 3600],
    ['3600', 3600],
    ['90m', 5400],
    ['12h', 43200],
    ['7d', 604800],
    ['1w', 604800],
    ['1d12h', 129600],
    ['1H', 3600],
    ['PT1H', 3600],
    ['P7D', 604800],
    ['P1DT12H', 129600],
    ['PT30M15S', 1815],
    ['p1w', 604800],
  ])('reads %p as %p seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each([
    0,
    -5,
    1.5,
    '',
    ' ',
    'P',
    'PT',
    'P1Y',
    'P1M',
    '10y',
    '1h-',
    'h',
    '1.5h',
    'PT1.5H',
    null,
    {},
    [],
    true,
    '9'.repeat(13),
  ])('refuses %p', (input) => {
    expect(parseDuration(input)).toBeNull();
  });

  it('refuses more than a hundred years', () => {
    expect(parseDuration(`${101 * 365}d`)).toBeNull();
  });
});
