import { XmlElement, childElements, firstChild, parseXmlSafely, textOf } from '../../common/xml';
import { buildDiscoverResponse } from './discovery';
import { buildRequestSecurityTokenResponse } from './enrollment';
import { EnrollmentErrorType, SoapFaultSubcode, buildSoapFault } from './fault';
import { Action, BstValueType, Ns } from './namespaces';
import { buildGetPoliciesResponse } from './policy';

// A MessageID with characters that must be escaped proves RelatesTo is echoed verbatim.
const MESSAGE_ID = 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749 &<x>';

function path(root: XmlElement, ...names: string[]): XmlElement {
  let el = root;
  for (const name of names) {
    const next = firstChild(el, name);
    if (!next) throw new Error(`no ${name} under ${el.name}`);
    el = next;
  }
  return el;
}

function header(root: XmlElement) {
  const h = path(root, 'Header');
  const action = path(h, 'Action');
  return {
    action: textOf(action),
    actionNs: action.ns,
    mustUnderstand: action.attributes['s:mustUnderstand']?.value,
    relatesTo: firstChild(h, 'RelatesTo') && textOf(path(h, 'RelatesTo')),
  };
}

describe('buildDiscoverResponse', () => {
  const xml = buildDiscoverResponse({
    relatesTo: MESSAGE_ID,
    activityId: '8c6060c4-3d78-4d73-ae17-e8bce88426ee',
    authPolicy: 'OnPremise',
    enrollmentPolicyServiceUrl: 'https://mdm.example.com/EnrollmentServer/Policy.svc?o=1&t=2',
    enrollmentServiceUrl: 'https://mdm.example.com/EnrollmentServer/Enrollment.svc?o=1&t=2',
  });
  const root = parseXmlSafely(xml);

  it('is a SOAP 1.2 envelope without an XML declaration', () => {
    expect(xml.startsWith('<s:Envelope')).toBe(true);
    expect([root.name, root.ns]).toEqual(['Envelope', Ns.Soap12]);
  });

  it('echoes the MessageID verbatim and sets the response action', () => {
    expect(header(root)).toEqual({
      action: Action.DiscoverResponse,
      actionNs: Ns.Addressing,
      mustUnderstand: '1',
      relatesTo: MESSAGE_ID,
    });
    const activity = path(root, 'Header', 'ActivityId');
    expect([activity.ns, textOf(activity)]).toEqual([
      Ns.Diagnostics,
      '8c6060c4-3d78-4d73-ae17-e8bce88426ee',
    ]);
  });

  it('carries the policy and URLs, with & escaped once', () => {
    const result = path(root, 'Body', 'DiscoverResponse', 'DiscoverResult');
    expect(result.ns).toBe(Ns.Discovery);
    expect(childElements(result).map((e) => [e.name, textOf(e)])).toEqual([
      ['AuthPolicy', 'OnPremise'],
      ['EnrollmentVersion', '4.0'],
      ['EnrollmentPolicyServiceUrl', 'https://mdm.example.com/EnrollmentServer/Policy.svc?o=1&t=2'],
      ['EnrollmentServiceUrl', 'https://mdm.example.com/EnrollmentServer/Enrollment.svc?o=1&t=2'],
    ]);
    expect(xml).toContain('Policy.svc?o=1&amp;t=2<');
  });

  it('requires an authentication URL for Federated and includes it', () => {
    expect(() =>
      buildDiscoverResponse({ relatesTo: 'x', authPolicy: 'Federated', enrollmentServiceUrl: 'u' }),
    ).toThrow(TypeError);
    const fed = parseXmlSafely(
      buildDiscoverResponse({
        relatesTo: 'x',
        authPolicy: 'Federated',
        enrollmentServiceUrl: 'https://e',
        authenticationServiceUrl: 'https://a/auth',
      }),
    );
    const result = path(fed, 'Body', 'DiscoverResponse', 'DiscoverResult');
    expect(textOf(path(result, 'AuthenticationServiceUrl'))).toBe('https://a/auth');
    expect(firstChild(result, 'EnrollmentPolicyServiceUrl')).toBeUndefined();
  });
});

describe('buildGetPoliciesResponse', () => {
  const root = parseXmlSafely(buildGetPoliciesResponse({ relatesTo: MESSAGE_ID }));
  const payload = path(root, 'Body', 'GetPoliciesResponse');
  const attributes = path(payload, 'response', 'policies', 'policy', 'attributes');

  it('relates to the request', () => {
    expect(header(root)).toMatchObject({
      action: Action.GetPoliciesResponse,
      relatesTo: MESSAGE_ID,
    });
    expect(payload.ns).toBe(Ns.EnrollmentPolicy);
  });

  it('keeps the xsd:sequence order of attributes', () => {
    expect(childElements(attributes).map((e) => e.name)).toEqual([
      'commonName',
      'policySchema',
      'certificateValidity',
      'permission',
      'privateKeyAttributes',
      'revision',
      'supersededPolicies',
      'privateKeyFlags',
      'subjectNameFlags',
      'enrollmentFlags',
      'generalFlags',
      'hashAlgorithmOIDReference',
      'rARequirements',
      'keyArchivalAttributes',
      'extensions',
    ]);
  });

  it("uses Fleet's values: 2048-bit keys, SHA-256 via oID 0, one year", () => {
    expect(textOf(path(attributes, 'policySchema'))).toBe('3');
    expect(textOf(path(attributes, 'privateKeyAttributes', 'minimalKeyLength'))).toBe('2048');
    expect(textOf(path(attributes, 'certificateValidity', 'validityPeriodSeconds'))).toBe(
      '31536000',
    );
    expect(textOf(path(attributes, 'hashAlgorithmOIDReference'))).toBe('0');
    const providers = childElements(path(attributes, 'privateKeyAttributes', 'cryptoProviders'));
    expect(providers.map(textOf)).toEqual([
      'Microsoft Platform Crypto Provider',
      'Microsoft Software Key Storage Provider',
    ]);
    const oids = childElements(path(payload, 'oIDs')).map((o) =>
      childElements(o).map((e) => textOf(e)),
    );
    expect(oids).toEqual([
      ['2.16.840.1.101.3.4.2.1', '4', '0', 'szOID_NIST_sha256'],
      ['1.2.840.113549.1.1.1', '3', '1', 'szOID_RSA_RSA'],
    ]);
  });

  it('marks absent values with a resolvable xsi:nil', () => {
    const nilAttr = path(payload, 'cAs').attributes['xsi:nil'];
    expect(nilAttr).toMatchObject({ uri: Ns.Xsi, value: 'true' });
    expect(path(attributes, 'privateKeyAttributes', 'keySpec').attributes['xsi:nil']?.value).toBe(
      'true',
    );
  });

  it('takes overrides', () => {
    const custom = parseXmlSafely(
      buildGetPoliciesResponse({ relatesTo: 'x', minimalKeyLength: 4096, cryptoProviders: [] }),
    );
    const pka = path(custom, 'Body', 'GetPoliciesResponse', 'response', 'policies', 'policy');
    const keyAttrs = path(pka, 'attributes', 'privateKeyAttributes');
    expect(textOf(path(keyAttrs, 'minimalKeyLength'))).toBe('4096');
    expect(path(keyAttrs, 'cryptoProviders').attributes['xsi:nil']?.value).toBe('true');
  });
});

describe('buildRequestSecurityTokenResponse', () => {
  const doc = '<?xml version="1.0" encoding="UTF-8"?><wap-provisioningdoc version="1.1"/>';
  const now = new Date('2026-03-01T12:00:00.000Z');
  const root = parseXmlSafely(
    buildRequestSecurityTokenResponse({ relatesTo: MESSAGE_ID, provisioningDocXml: doc, now }),
  );

  it('has the RSTRC action, RelatesTo and a ±5 min timestamp', () => {
    expect(header(root)).toMatchObject({
      action: Action.RequestSecurityTokenResponse,
      relatesTo: MESSAGE_ID,
    });
    const security = path(root, 'Header', 'Security');
    expect(security.ns).toBe(Ns.WssSecext);
    const ts = path(security, 'Timestamp');
    expect(ts.ns).toBe(Ns.WssUtility);
    expect(textOf(path(ts, 'Created'))).toBe('2026-03-01T11:55:00.000Z');
    expect(textOf(path(ts, 'Expires'))).toBe('2026-03-01T12:05:00.000Z');
  });

  it('wraps the base64 provisioning doc in the documented token', () => {
    const rstr = path(root, 'Body', 'RequestSecurityTokenResponseCollection');
    expect(rstr.ns).toBe(Ns.WsTrust);
    const response = path(rstr, 'RequestSecurityTokenResponse');
    expect(path(response, 'DispositionMessage').ns).toBe(Ns.Enrollment);
    expect(textOf(path(response, 'RequestID'))).toBe('0');
    const bst = path(response, 'RequestedSecurityToken', 'BinarySecurityToken');
    expect(bst.ns).toBe(Ns.WssSecext);
    expect(bst.attributes.ValueType?.value).toBe(BstValueType.ProvisionDoc);
    expect(Buffer.from(textOf(bst), 'base64').toString('utf8')).toBe(doc);
  });
});

describe('buildSoapFault', () => {
  it('writes a SOAP 1.2 fault with subcode, reason and DeviceEnrollmentServiceError', () => {
    const root = parseXmlSafely(
      buildSoapFault({
        action: Action.RequestSecurityTokenResponse,
        relatesTo: MESSAGE_ID,
        subcode: SoapFaultSubcode.Authorization,
        reason: 'This user is not allowed to enroll',
        detail: {
          errorType: EnrollmentErrorType.DeviceCapReached,
          message: 'Too many devices',
          traceId: 'req-42',
        },
      }),
    );
    expect(header(root)).toMatchObject({ relatesTo: MESSAGE_ID });
    const fault = path(root, 'Body', 'Fault');
    expect(fault.ns).toBe(Ns.Soap12);
    expect(textOf(path(fault, 'Code', 'Value'))).toBe('s:Receiver');
    expect(textOf(path(fault, 'Code', 'Subcode', 'Value'))).toBe('s:Authorization');
    const text = path(fault, 'Reason', 'Text');
    expect(textOf(text)).toBe('This user is not allowed to enroll');
    expect(text.attributes['xml:lang']?.value).toBe('en-US');
    const detail = path(fault, 'Detail', 'DeviceEnrollmentServiceError');
    expect(detail.ns).toBe(Ns.Enrollment);
    expect(childElements(detail).map((e) => [e.name, textOf(e)])).toEqual([
      ['ErrorType', 'DeviceCapReached'],
      ['Message', 'Too many devices'],
      ['TraceId', 'req-42'],
    ]);
  });

  it.each(Object.values(SoapFaultSubcode))('binds the prefix of %s', (subcode) => {
    const xml = buildSoapFault({ action: Action.DiscoverResponse, subcode, reason: 'r' });
    const value = path(parseXmlSafely(xml), 'Body', 'Fault', 'Code', 'Subcode', 'Value');
    expect(textOf(value)).toBe(subcode);
    const expectedNs = subcode.startsWith('a:') ? Ns.WcfDispatcher : undefined;
    expect(value.attributes['xmlns:a']?.value).toBe(expectedNs);
    expect(xml).not.toContain('RelatesTo');
  });
});
