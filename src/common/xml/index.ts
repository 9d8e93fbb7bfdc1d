export { ILLEGAL_XML_CHAR, hasIllegalXmlChar } from './xml-chars';
export * from './xml-tree';
export * from './safe-xml';
export * from './xml-node';
export * from './xml-writer';
export * from './xml-measure';
export * from './xml-scope';
