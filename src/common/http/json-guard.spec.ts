import { DomainError } from '../errors';
import { parseJsonBody } from './body-parsers';
import { forbiddenKeys, scanJsonText } from './json-guard';

const limits = { maxDepth: 4, maxEntries: 10 };

describe('scanJsonText', () => {
  it('counts nesting of arrays and objects, up to the limit inclusive', () => {
    expect(scanJsonText('[[[[]]]]', limits)).toBeNull();
    expect(scanJsonText('{"a":{"b":[{}]}}', limits)).toBeNull();
    expect(scanJsonText('[[[[[]]]]]', limits)).toBe('JSON nested deeper than 4 levels');
    expect(scanJsonText('{"a":{"b":[{"c":[]}]}}', limits)).toBe('JSON nested deeper than 4 levels');
  });

  it('ignores brackets and quotes inside strings, escaped quotes and backslashes included', () => {
    expect(scanJsonText('{"a":"[[[[[[{{{{"}', limits)).toBeNull();
    expect(scanJsonText('{"a":"\\"[[[[[[","b":"\\\\"}', limits)).toBeNull();
    // After an escaped backslash the quote closes the string: the brackets count again.
    expect(scanJsonText('["\\\\",[[[[]]]]]', limits)).toBe('JSON nested deeper than 4 levels');
  });

  it('refuses more members and elements than the cap, not commas inside strings', () => {
    expect(scanJsonText(`[${'0,'.repeat(8)}0]`, limits)).toBeNull();
    expect(scanJsonText(`[${'0,'.repeat(10)}0]`, limits)).toBe(
      'JSON with more than 10 members and elements',
    );
    expect(scanJsonText(`["${','.repeat(100)}"]`, limits)).toBeNull();
  });

  it('is linear and stack-free on a million open brackets', () => {
    expect(scanJsonText('['.repeat(1_000_000), { maxDepth: 2_000_000, maxEntries: 1 })).toBeNull();
  });
});

describe('forbiddenKeys', () => {
  it('names every prototype key by its dotted path, arrays by index', () => {
    const body = JSON.parse(
      '{"__proto__":{"x":1},"a":[{"constructor":{"prototype":1}}],"b":{"prototype":2}}',
    );
    expect(forbiddenKeys(body)).toEqual([
      { field: '__proto__', message: 'property __proto__ should not exist' },
      { field: 'a.0.constructor', message: 'property constructor should not exist' },
      { field: 'b.prototype', message: 'property prototype should not exist' },
    ]);
  });

  it('lets ordinary keys, and those words as values, through', () => {
    expect(forbiddenKeys({ a: '__proto__', b: ['constructor'], proto: 1 })).toEqual([]);
  });
});

describe('parseJsonBody', () => {
  const parse = (text: string) => parseJsonBody(Buffer.from(text, 'utf8'), limits);
  const details = (text: string) => {
    try {
      parse(text);
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      return (e as DomainError).details;
    }
    throw new Error('expected a refusal');
  };

  it('returns the object; an empty body is {}; a BOM is dropped', () => {
    expect(parse('{"a":[1,"x"]}')).toEqual({ a: [1, 'x'] });
    expect(parse('')).toEqual({});
    expect(parse('\uFEFF{"a":1}')).toEqual({ a: 1 });
  });

  it('refuses a body that is not an object', () => {
    for (const text of ['[]', '[{}]', 'null', '1', '"x"', 'true']) {
      expect(details(text)).toEqual([
        { field: 'request', message: 'the body must be a JSON object' },
      ]);
    }
  });

  it('refuses depth before parsing and reports syntax errors under request', () => {
    expect(details('{"a":[[[[{"b":1}]]]]}')).toEqual([
      { field: 'request', message: 'JSON nested deeper than 4 levels' },
    ]);
    expect(details('{"a":')).toEqual([{ field: 'request', message: expect.any(String) }]);
  });

  it('refuses prototype keys, even spelled with escapes, without touching Object.prototype', () => {
    expect(details('{"\\u005f_proto__":{"polluted":1}}')).toEqual([
      { field: '__proto__', message: 'property __proto__ should not exist' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
