import { create } from 'xmlbuilder2';
import { parseXmlSafely } from './safe-xml';
import { measureXml } from './xml-measure';
import { attrs, el, type XmlNode } from './xml-node';
import { childElements, firstChild, textOf } from './xml-tree';
import { writeXml, XmlWriteError } from './xml-writer';

const AWKWARD = [
  '&amp;',
  'R&amp;D &lt;x&gt;',
  '&#65;',
  '&#x41;',
  '&foo;',
  'a & b',
  'x]]>y',
  ']]>',
  '<',
  '>',
  '<Add>',
  `"double" and 'single'`,
  'https://cdn.contoso.example/app.msi?sig=a&amp;b=c',
  'é ü 中文 😀',
  '  leading and trailing  ',
  'line1\r\nline2\rline3\n\tx',
  '0012',
  '&&amp;&',
];

function roundTrip(value: string): { text: string; attr: string; xml: string } {
  const xml = writeXml(el('r', attrs({ v: value }), el('t', value)));
  const root = parseXmlSafely(xml);
  return { text: textOf(firstChild(root, 't')!), attr: root.attributes.v.value, xml };
}

describe('writeXml: values round-trip exactly through parseXmlSafely', () => {
  it.each(AWKWARD)('%j', (value) => {
    const { text, attr } = roundTrip(value);
    expect(text).toBe(value);
    expect(attr).toBe(value);
  });

  it('neutralizes xmlbuilder2 #117 (its raw output would read back changed)', () => {
    const raw = create({ version: '1.0' }).ele('t').txt('R&amp;D').end({ headless: true });
    expect(textOf(parseXmlSafely(raw))).toBe('R&D');
    expect(roundTrip('R&amp;D').xml).toContain('<t>R&amp;amp;D</t>');
  });

  it('escapes markup characters in text and attributes', () => {
    const { xml } = roundTrip(`<b>&"`);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><r v="&lt;b&gt;&amp;&quot;"><t>&lt;b&gt;&amp;"</t></r>',
    );
  });

  it.each(['\u0001', '\u0000', '\uFFFE', '\uFFFF', '\uD800', 'ok\uDC00'])(
    'throws on %j, which XML 1.0 forbids',
    (bad) => {
      expect(() => writeXml(el('t', bad))).toThrow(XmlWriteError);
      expect(() => writeXml(el('t', attrs({ a: bad })))).toThrow(XmlWriteError);
    },
  );
});

describe('writeXml: structure and namespaces', () => {
  const S = 'http://www.w3.org/2003/05/soap-envelope';
  const A = 'http://www.w3.org/2005/08/addressing';
  const envelope = el(
    's:Envelope',
    attrs({ 'xmlns:s': S, 'xmlns:a': A }),
    el('s:Header', el('a:Action', attrs({ 's:mustUnderstand': '1' }), 'urn:action')),
    el('s:Body', el('Response', attrs({ xmlns: 'urn:body' }), el('Value', '1'), el('Empty'))),
  );

  it('writes SOAP prefixes, declarations and prefixed attributes as given', () => {
    expect(writeXml(envelope, { headless: true })).toBe(
      `<s:Envelope xmlns:s="${S}" xmlns:a="${A}"><s:Header>` +
        `<a:Action s:mustUnderstand="1">urn:action</a:Action></s:Header>` +
        `<s:Body><Response xmlns="urn:body"><Value>1</Value><Empty/></Response></s:Body></s:Envelope>`,
    );
    const root = parseXmlSafely(writeXml(envelope));
    const action = childElements(childElements(root)[0])[0];
    expect(action).toMatchObject({ name: 'Action', ns: A });
    expect(action.attributes['s:mustUnderstand']).toMatchObject({ uri: S, value: '1' });
    const response = childElements(childElements(root)[1])[0];
    expect(childElements(response).map((c) => [c.name, c.ns])).toEqual([
      ['Value', 'urn:body'],
      ['Empty', 'urn:body'],
    ]);
  });

  it('writes the declaration unless headless', () => {
    expect(writeXml(el('a'))).toBe('<?xml version="1.0" encoding="UTF-8"?><a/>');
    expect(writeXml(el('a'), { headless: true })).toBe('<a/>');
  });

  it('skips empty, null, undefined and false children and flattens arrays', () => {
    const node = el('a', '', null, undefined, false, [el('b'), [el('c', 'x')]]);
    expect(writeXml(node, { headless: true })).toBe('<a><b/><c>x</c></a>');
  });

  it('keeps children in the given order', () => {
    const node = el('a', el('Add'), 'x', el('Replace'), el('Add'), 'y');
    expect(writeXml(node, { headless: true })).toBe('<a><Add/>x<Replace/><Add/>y</a>');
  });

  it('drops declarations that repeat the enclosing scope', () => {
    const node = el('a', attrs({ xmlns: 'u' }), el('b', attrs({ xmlns: 'u', 'xmlns:p': 'v' })));
    expect(writeXml(node, { headless: true })).toBe('<a xmlns="u"><b xmlns:p="v"/></a>');
  });

  it('refuses to undeclare the default namespace', () => {
    const node = el('a', attrs({ xmlns: 'u' }), el('b', attrs({ xmlns: '' }), el('c')));
    expect(() => writeXml(node)).toThrow(expect.objectContaining({ reason: 'unsupported' }));
  });

  it('refuses an undeclared prefix and an invalid name', () => {
    expect(() => writeXml(el('x:a'))).toThrow(
      expect.objectContaining({ reason: 'unbound-prefix' }),
    );
    expect(() => writeXml(el('a', attrs({ 'x:b': '1' })))).toThrow(
      expect.objectContaining({ reason: 'unbound-prefix' }),
    );
    expect(() => writeXml(el('<a>'))).toThrow(expect.objectContaining({ reason: 'invalid-name' }));
    expect(() => writeXml(el('a', attrs({ 'b c': '1' })))).toThrow(XmlWriteError);
  });
});

describe('measureXml', () => {
  const trees: XmlNode[] = [
    el('a'),
    el('a', attrs({ xmlns: 'urn:x', 'xmlns:p': 'urn:p', 'p:q': 'v' }), el('p:b', 'é')),
    el('Item', ...AWKWARD.map((v) => el('Data', attrs({ v }), v))),
    el('SyncML', attrs({ xmlns: 'SYNCML:SYNCML1.2' }), el('SyncBody', el('Final'))),
    el('a', attrs({ xmlns: 'u' }), el('b', attrs({ xmlns: 'u' }))),
    el('p:a', attrs({ 'xmlns:p': 'u' }), el('p:b', attrs({ 'xmlns:p': 'u', 'xmlns:q': 'v' }))),
    el('a', attrs({ 'xmlns:p': 'u' }), el('b', attrs({ 'xmlns:p': 'v' }), el('p:c'))),
    el('a', attrs({ xmlns: '' }), el('b')),
  ];

  it.each(trees.map((t, i) => [i, t] as const))('equals the written byte length (#%i)', (_i, t) => {
    expect(measureXml(t)).toBe(Buffer.byteLength(writeXml(t), 'utf8'));
    expect(measureXml(t, { headless: true })).toBe(
      Buffer.byteLength(writeXml(t, { headless: true }), 'utf8'),
    );
  });
});
