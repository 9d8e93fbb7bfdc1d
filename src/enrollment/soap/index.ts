export * from './discovery';
export * from './enrollment';
export * from './fault';
export * from './namespaces';
export * from './policy';
export * from './provisioning-doc';
export * from './security';
export { SOAP_XML_LIMITS, SoapRequestError } from './soap-request';
export type { AddressingHeader, BinaryToken, SoapRequestErrorReason } from './soap-request';
