import { parseXmlSafely, XmlParseError } from './safe-xml';
import { attributeValue, childElements, firstChild, textOf, type XmlElement } from './xml-tree';

const NS = 'SYNCML:SYNCML1.2';
const HDR = `<SyncML xmlns="${NS}"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID></SyncHdr><SyncBody>`;
const FTR = '<Final/></SyncBody></SyncML>';
const wrapData = (d: string): string =>
  `${HDR}<Results><CmdID>2</CmdID><Item><Data>${d}</Data></Item></Results>${FTR}`;

function reasonOf(input: Buffer | string, opts?: Parameters<typeof parseXmlSafely>[1]) {
  try {
    parseXmlSafely(input, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(XmlParseError);
    return (err as XmlParseError).reason;
  }
  throw new Error('expected the input to be refused');
}

function dataOf(root: XmlElement): string {
  const body = firstChild(root, 'SyncBody')!;
  const item = firstChild(firstChild(body, 'Results')!, 'Item')!;
  return textOf(firstChild(item, 'Data')!);
}

describe('parseXmlSafely: accepted input', () => {
  it('builds a namespaced tree with verbatim text, CDATA and decoded references', () => {
    const xml =
      `<?xml version="1.0" encoding="utf-8"?>` +
      wrapData(' <![CDATA[<a>&amp;</a>]]> &lt;Add&gt; &amp;amp; &#x41;&#66;\n 0012 ');
    const root = parseXmlSafely(Buffer.from(xml));
    expect(root.name).toBe('SyncML');
    expect(root.ns).toBe(NS);
    expect(dataOf(root)).toBe(' <a>&amp;</a> <Add> &amp; AB\n 0012 ');
  });

  it('resolves prefixes and keeps prefixed attributes with their namespace', () => {
    const root = parseXmlSafely(
      `<r xmlns="urn:d" xmlns:A="syncml:metinf" xmlns:msft="urn:m"><A:Format msft:originalerror="0x1">int</A:Format></r>`,
    );
    const f = childElements(root)[0];
    expect(f).toMatchObject({ name: 'Format', ns: 'syncml:metinf', prefix: 'A' });
    expect(f.attributes['msft:originalerror']).toEqual({
      value: '0x1',
      uri: 'urn:m',
      local: 'originalerror',
      prefix: 'msft',
    });
    expect(attributeValue(f, 'msft:originalerror')).toBe('0x1');
    expect(attributeValue(f, 'toString')).toBeUndefined();
  });

  it('strips a UTF-8 BOM and decodes non-ASCII', () => {
    const buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<a>é😀</a>')]);
    expect(textOf(parseXmlSafely(buf))).toBe('é😀');
  });

  it('accepts exactly maxDepth levels and maxAttributes attributes', () => {
    const deep = '<a>'.repeat(32) + '</a>'.repeat(32);
    expect(parseXmlSafely(deep).name).toBe('a');
    const wide = `<a ${Array.from({ length: 16 }, (_, i) => `x${i}="v"`).join(' ')}/>`;
    expect(Object.keys(parseXmlSafely(wide).attributes)).toHaveLength(16);
  });

  it('keeps __proto__ and constructor as plain names', () => {
    const root = parseXmlSafely(
      wrapData('x').replace(
        '<Data>',
        '<__proto__ __proto__="p"><polluted>yes</polluted></__proto__><Data>',
      ),
    );
    const item = firstChild(firstChild(firstChild(root, 'SyncBody')!, 'Results')!, 'Item')!;
    const proto = firstChild(item, '__proto__')!;
    expect(proto.attributes['__proto__'].value).toBe('p');
    expect(Object.getPrototypeOf(proto.attributes)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseXmlSafely: hostile input (research/xml-parsers.md safety suite)', () => {
  it('refuses XXE without reading the file', () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${wrapData('&xxe;')}`;
    expect(reasonOf(xxe)).toBe('forbidden-markup');
  });

  it('refuses billion laughs and a large single entity', () => {
    let d = '<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY lol "lol">';
    for (let i = 1; i <= 9; i++)
      d += `<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`;
    expect(reasonOf(d + ']>' + wrapData('&lol9;'))).toBe('forbidden-markup');
    const big = `<!DOCTYPE SyncML [<!ENTITY a "${'A'.repeat(9000)}">]>${wrapData('&a;'.repeat(20000))}`;
    expect(reasonOf(big)).toBe('forbidden-markup');
    expect(reasonOf(`<!doctype a><a/>`)).toBe('forbidden-markup');
    expect(reasonOf(`<a><!ENTITY x "y"></a>`)).toBe('forbidden-markup');
  });

  // "Quickly" without a clock: input that turns malformed right after the limit is refused for
  // the limit, so the refusal came while streaming, before the parser read (or built) the rest.
  it('refuses 10,000 and 100,000 levels of nesting as soon as the limit is passed', () => {
    const deep = `${HDR}${'<Atomic>'.repeat(10000)}${'</Atomic>'.repeat(10000)}${FTR}`;
    expect(reasonOf(deep)).toBe('too-deep');
    const deeper = `${HDR}${'<a>'.repeat(100000)}<<&broken;${'</b>'.repeat(100000)}`;
    expect(reasonOf(deeper)).toBe('too-deep');
    expect(reasonOf('<a>'.repeat(33) + '</a>'.repeat(33))).toBe('too-deep');
    expect(parseXmlSafely('<a>'.repeat(32) + '</a>'.repeat(32)).name).toBe('a');
    expect(reasonOf('<a><a><a></a></a></a>', { maxDepth: 2 })).toBe('too-deep');
  });

  it('refuses 60,000 attributes as soon as the 17th is read', () => {
    const many = Array.from({ length: 60000 }, (_, i) => ` a${i}="v"`).join('');
    expect(reasonOf(wrapData('x').replace('<Data>', `<Data${many}>`))).toBe('too-many-attributes');
    // The 17th attribute is followed by garbage and a duplicate: neither was reached.
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => `x${i}="v"`).join(' ');
    expect(reasonOf(`<a ${attrs(17)} <<&broken; x0="dup"/>`)).toBe('too-many-attributes');
    expect(reasonOf(`<a ${attrs(17)}/>`)).toBe('too-many-attributes');
    expect(parseXmlSafely(`<a ${attrs(16)}/>`).name).toBe('a');
  });

  it('refuses bodies over maxBytes before decoding', () => {
    expect(reasonOf(Buffer.alloc(1024 * 1024 + 1, 0x20))).toBe('too-large');
    expect(reasonOf('<a>éé</a>', { maxBytes: 10 })).toBe('too-large');
  });

  it('refuses invalid UTF-8 instead of replacing it', () => {
    const bad = Buffer.concat([
      Buffer.from(HDR + '<Results><CmdID>2</CmdID><Item><Data>A'),
      Buffer.from([0xc3, 0x28, 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
      Buffer.from('B</Data></Item></Results>' + FTR),
    ]);
    expect(reasonOf(bad)).toBe('invalid-utf8');
  });

  it('refuses characters outside XML 1.0 (U+0001, U+FFFE, lone surrogate)', () => {
    expect(reasonOf(wrapData('a\u0001b'))).toBe('illegal-char');
    expect(reasonOf(wrapData('a\uFFFEc'))).toBe('illegal-char');
    expect(reasonOf(wrapData('a\uD800c'))).toBe('illegal-char');
    expect(reasonOf(wrapData('&#1;'))).toBe('malformed');
  });

  it('refuses undeclared entities, bare &, mismatched and truncated documents', () => {
    expect(reasonOf(wrapData('x&nbsp;y'))).toBe('malformed');
    expect(reasonOf(wrapData('x&foo;z'))).toBe('malformed');
    expect(reasonOf(wrapData('Fish & Chips'))).toBe('malformed');
    expect(reasonOf(`${HDR}<Status><CmdID>2</CmdID></SyncBody></Status></SyncML>`)).toBe(
      'malformed',
    );
    const full = wrapData('x');
    expect(reasonOf(full.slice(0, full.indexOf('</Item>') + 7))).toBe('malformed');
    expect(reasonOf('')).toBe('malformed');
    expect(reasonOf('<a/><b/>')).toBe('malformed');
  });

  it('refuses XML 1.1, non-UTF-8 declarations and processing instructions', () => {
    expect(reasonOf('<?xml version="1.1"?><a/>')).toBe('unsupported-xml-version');
    expect(reasonOf('<?xml version="1.0" encoding="ISO-8859-1"?><a/>')).toBe(
      'unsupported-xml-version',
    );
    expect(reasonOf('<a><?php echo 1 ?></a>')).toBe('forbidden-markup');
  });

  it('refuses unbound prefixes', () => {
    expect(reasonOf('<A:Format>int</A:Format>')).toBe('malformed');
  });
});
