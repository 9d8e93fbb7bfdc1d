import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAndVerifyCsr } from '../../pki/csr';
import { parseDiscoverRequest } from './discovery';
import {
  contextValue,
  contextValues,
  isIssueRequest,
  parseRequestSecurityToken,
} from './enrollment';
import { BstValueType, PASSWORD_TEXT_TYPE, RequestType } from './namespaces';
import { parseGetPoliciesRequest } from './policy';
import { SoapRequestError } from './soap-request';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));
const text = (name: string) => fixture(name).toString('utf8');
const DEVICE_ID = 'B5B954E81FBCB94EB79BD08BE625F4EE';

function failure(fn: () => unknown): SoapRequestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SoapRequestError) return err;
    throw err;
  }
  throw new Error('expected a SoapRequestError');
}

describe('parseDiscoverRequest', () => {
  it('reads the captured Discover message', () => {
    const req = parseDiscoverRequest(fixture('discover.xml'));
    expect(req.header).toEqual({
      action:
        'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover',
      messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
      to: 'https://EnterpriseEnrollment.example.com:443/EnrollmentServer/Discovery.svc',
      replyTo: 'http://www.w3.org/2005/08/addressing/anonymous',
    });
    expect(req).toMatchObject({
      emailAddress: 'demo@example.com',
      requestVersion: '4.0',
      deviceType: 'CIMClient_Windows',
      applicationVersion: '10.0.19043.2364',
      osEdition: '72',
      authPolicies: ['OnPremise', 'Federated'],
    });
  });

  it('accepts any RequestVersion and the docs namespace with a trailing slash', () => {
    const xml = text('discover.xml')
      .replace('<RequestVersion>4.0', '<RequestVersion>9.0')
      .replace(
        'xmlns="http://schemas.microsoft.com/windows/management/2012/01/enrollment"',
        'xmlns="http://schemas.microsoft.com/windows/management/2012/01/enrollment/"',
      );
    const req = parseDiscoverRequest(xml);
    expect(req.requestVersion).toBe('9.0');
    expect(req.emailAddress).toBe('demo@example.com');
  });

  it('matches by namespace, not by element name alone', () => {
    const xml = text('discover.xml').replace(
      'xmlns="http://schemas.microsoft.com/windows/management/2012/01/enrollment"',
      'xmlns="urn:other"',
    );
    expect(failure(() => parseDiscoverRequest(xml)).reason).toBe('missing-element');
  });
});

describe('parseGetPoliciesRequest', () => {
  it('reads the UsernameToken credential and nil client fields', () => {
    const req = parseGetPoliciesRequest(fixture('get-policies.xml'));
    expect(req.header.messageId).toBe('urn:uuid:72048B64-0F19-448F-8C2E-B4C661860AA0');
    expect(req.credential).toEqual({
      kind: 'username',
      username: 'demo@example.com',
      password: 's3cret & more',
      passwordType: PASSWORD_TEXT_TYPE,
    });
    expect(req.lastUpdate).toBeUndefined();
    expect(req.preferredLanguage).toBeUndefined();
  });

  it('refuses a Discover envelope sent to the policy service', () => {
    const err = failure(() => parseGetPoliciesRequest(fixture('discover.xml')));
    expect(err.reason).toBe('unexpected-action');
    expect(err.messageId).toBe('urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478');
  });
});

describe('parseRequestSecurityToken', () => {
  it('reads the captured RST: credential, token, CSR and AdditionalContext', () => {
    const req = parseRequestSecurityToken(fixture('rst.xml'));
    expect(req.header.messageId).toBe('urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
    expect(req.credential).toMatchObject({ kind: 'username', username: 'demo@example.com' });
    expect(isIssueRequest(req)).toBe(true);
    expect(req.token.valueType).toBe(BstValueType.Pkcs10);
    expect(parseAndVerifyCsr(req.token.base64).deviceIdExtension).toBe(DEVICE_ID);
    expect(contextValue(req.additionalContext, 'DeviceID')).toBe(DEVICE_ID);
    expect(contextValue(req.additionalContext, 'EnrollmentType')).toBe('Full');
    expect(contextValue(req.additionalContext, 'HWDevID')).toHaveLength(64);
    expect(contextValues(req.additionalContext, 'MAC')).toEqual([
      '00-0C-29-51-60-9D',
      '1A-77-20-52-41-53',
      '00-0C-29-51-60-A7',
    ]);
    expect(req.additionalContext.map((i) => i.name).slice(0, 3)).toEqual([
      'UXInitiated',
      'HWDevID',
      'Locale',
    ]);
  });

  it('reads the prefix variant: default namespaces, o: for WS-Security, wrapped CSR', () => {
    const req = parseRequestSecurityToken(fixture('rst-prefix-variant.xml'));
    expect(req.header.action).toBe(
      'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep',
    );
    expect(req.header.to).toBe(
      'https://mdm.example.com/EnrollmentServer/Enrollment.svc?org=acme&v=2',
    );
    expect(req.credential).toEqual({
      kind: 'username',
      username: 'user@example.com',
      password: 'p<a>ss ',
      passwordType: PASSWORD_TEXT_TYPE,
    });
    expect(isIssueRequest(req)).toBe(true);
    expect(req.token.base64).not.toMatch(/\s/);
    expect(parseAndVerifyCsr(req.token.base64).keyBits).toBe(2048);
    expect(req.additionalContext).toEqual([
      { name: 'DeviceID', value: DEVICE_ID },
      { name: 'EnrollmentType', value: 'Device' },
      { name: 'OSEdition', value: '4' },
      { name: 'MAC', value: '00-0C-29-51-60-9D' },
      { name: 'MAC', value: '00-0C-29-51-60-A7' },
    ]);
  });

  it('decodes a header BinarySecurityToken and exposes a renewal request as such', () => {
    const req = parseRequestSecurityToken(fixture('rst-user-token.xml'));
    expect(req.credential).toEqual({
      kind: 'binary-token',
      valueType: BstValueType.UserToken,
      token: 'opaque-invite-token-123',
    });
    expect(req.requestType).toBe(RequestType.Renew);
    expect(req.token.valueType).toBe(BstValueType.Pkcs7);
    expect(isIssueRequest(req)).toBe(false);
    expect(req.additionalContext).toEqual([]);
  });

  it('reports an unreadable header token as invalid-security, with the MessageID', () => {
    const xml = text('rst-user-token.xml').replace('b3BhcXVl', 'b3B*hcXVl');
    const err = failure(() => parseRequestSecurityToken(xml));
    expect(err.reason).toBe('invalid-security');
    expect(err.messageId).toBe('urn:uuid:5a0e7e2e-7f7c-4d2a-9a53-1c1b5f0e0b11');
  });

  it('reports a UsernameToken without a Password as invalid-security', () => {
    const xml = text('rst.xml').replace(/<wsse:Password[^]*?<\/wsse:Password>/, '');
    expect(failure(() => parseRequestSecurityToken(xml)).reason).toBe('invalid-security');
  });

  it('requires the CSR token', () => {
    const xml = text('rst.xml').replace(
      /<wsse:BinarySecurityToken[^]*?<\/wsse:BinarySecurityToken>/,
      '',
    );
    const err = failure(() => parseRequestSecurityToken(xml));
    expect(err.reason).toBe('missing-element');
    expect(err.messageId).toBe('urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749');
  });
});

describe('malformed envelopes', () => {
  it.each([
    ['XXE', 'malformed/xxe.xml', 'malformed-xml'],
    ['billion laughs', 'malformed/billion-laughs.xml', 'malformed-xml'],
    ['mismatched tags', 'malformed/mismatched-tags.xml', 'malformed-xml'],
    ['a SOAP 1.1 envelope', 'malformed/soap11-envelope.xml', 'not-soap-envelope'],
  ])('refuses %s', (_label, file, reason) => {
    const err = failure(() => parseDiscoverRequest(fixture(file)));
    expect(err.reason).toBe(reason);
  });

  it('does not read the XXE target', () => {
    expect(failure(() => parseDiscoverRequest(fixture('malformed/xxe.xml'))).message).toMatch(
      /forbidden-markup/,
    );
  });

  it.each([
    ['an empty body', ''],
    ['plain text', 'hello'],
    ['a non-SOAP root', '<Discover/>'],
    ['invalid UTF-8', Buffer.from([0x3c, 0x61, 0xff, 0x3e])],
    ['an oversized body', `<x>${'a'.repeat(70_000)}</x>`],
  ])('refuses %s', (_label, input) => {
    expect(failure(() => parseDiscoverRequest(input))).toBeInstanceOf(SoapRequestError);
  });

  it('refuses a missing or duplicated MessageID', () => {
    const xml = text('discover.xml');
    const missing = xml.replace(/<a:MessageID>.*<\/a:MessageID>/, '');
    expect(failure(() => parseDiscoverRequest(missing)).reason).toBe('missing-element');
    const twice = xml.replace(/(<a:MessageID>.*<\/a:MessageID>)/, '$1$1');
    expect(failure(() => parseDiscoverRequest(twice)).reason).toBe('duplicate-element');
  });

  it('refuses a Body with two payload elements', () => {
    const xml = text('discover.xml').replace('</s:Body>', '<Extra/></s:Body>');
    expect(failure(() => parseDiscoverRequest(xml)).reason).toBe('invalid-value');
  });
});
