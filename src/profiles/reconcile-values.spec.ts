import { canonicalXml, sameValue } from './reconcile-values';

describe('sameValue', () => {
  it.each([
    ['int', '1', '1', true],
    ['int', '007', '7', true],
    ['int', ' 5 ', '5', true],
    ['int', '+3', '3', true],
    ['int', '18446744073709551615', '18446744073709551614', false],
    ['int', '1', '2', false],
    ['int', 'abc', 'abc', true],
    ['int', 'abc', 'ABC', false],
    ['float', '1.50', '1.5', true],
    ['float', '1.5', '1.6', false],
    ['bool', 'true', 'True', true],
    ['bool', '1', 'true', true],
    ['bool', '0', 'FALSE', true],
    ['bool', 'true', '0', false],
    ['bool', 'false', '1', false],
    ['bool', 'yes', 'yes', true],
    ['bool', 'yes', 'true', false],
    ['chr', 'Abc', 'Abc', true],
    ['chr', 'Abc', 'abc', false],
    ['chr', 'a ', 'a', false],
    ['date', '2026-01-01', '2026-01-01', true],
    ['b64', 'aGVsbG8=', 'aGVs\r\nbG8=', true],
    ['b64', 'aGVsbG8=', 'aGVsbA==', false],
    ['bin', 'AAEC', 'AAEC', true],
    ['node', '', 'anything', true],
    ['xml', '<a x="1" y="2"><b>t</b></a>', '<a y="2" x="1">\n  <b>t</b>\n</a>', true],
    ['xml', '<a><b>t</b></a>', '<a><b>u</b></a>', false],
    ['xml', '<a><b>t</b></a>', '<a><b> t</b></a>', false],
    ['xml', '<enabled/><data id="x" value="1"/>', '<enabled /> <data value="1" id="x" />', true],
    ['xml', '<enabled/>', '<disabled/>', false],
    ['xml', '<p:a xmlns:p="urn:x"/>', '<q:a xmlns:q="urn:x"></q:a>', true],
    ['xml', '<p:a xmlns:p="urn:x"/>', '<p:a xmlns:p="urn:y"/>', false],
    ['xml', '<a>x<![CDATA[y]]></a>', '<a>xy</a>', true],
    ['xml', '<?xml version="1.0"?><a/>', '<a/>', true],
    ['xml', 'not xml <', 'not xml <', true],
    ['xml', 'not xml <', '<a/>', false],
  ])('%s %j vs %j → %s', (format, desired, device, expected) => {
    expect(sameValue(format, desired, device)).toBe(expected);
  });
});

describe('canonicalXml', () => {
  it('refuses DOCTYPE and entities (the codec safe parser rules)', () => {
    expect(canonicalXml('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')).toBeUndefined();
  });

  it('is undefined for text that is not XML', () => {
    expect(canonicalXml('<a>')).toBeUndefined();
  });
});
