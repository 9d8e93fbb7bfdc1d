// XML 1.0 §2.2 production [2] Char; the `u` flag makes lone surrogates match too.
export const ILLEGAL_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function hasIllegalXmlChar(value: string): boolean {
  return ILLEGAL_XML_CHAR.test(value);
}
