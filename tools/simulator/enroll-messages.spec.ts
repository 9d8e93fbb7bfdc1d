import {
  buildDiscoverResponse,
  buildProvisioningDoc,
  buildRequestSecurityTokenResponse,
  buildSoapFault,
  contextValue,
  contextValues,
  isIssueRequest,
  parseDiscoverRequest,
  parseGetPoliciesRequest,
  parseRequestSecurityToken,
  SoapFaultSubcode,
  Action,
  AuthPolicy,
} from '../../src/enrollment/soap';
import {
  discoverRequest,
  getPoliciesRequest,
  newMessageId,
  readDiscoverResponse,
  readEnrollmentResponse,
  readFault,
  rstRequest,
  windowsContext,
} from './enroll-messages';

describe('simulated enrollment messages', () => {
  it('are read by the server parsers as Windows messages', () => {
    const id = newMessageId();
    const d = parseDiscoverRequest(
      discoverRequest({
        messageId: id,
        to: 'https://h/EnrollmentServer/Discovery.svc',
        email: 'a@b.c',
      }),
    );
    expect(d).toMatchObject({
      header: { messageId: id },
      emailAddress: 'a@b.c',
      authPolicies: ['OnPremise', 'Federated'],
    });

    const password = 'P&ss <w>';
    const p = parseGetPoliciesRequest(
      getPoliciesRequest({ messageId: id, to: 'x', username: 'a@b.c', password }),
    );
    expect(p.credential).toMatchObject({ kind: 'username', username: 'a@b.c', password });

    const r = parseRequestSecurityToken(
      rstRequest({
        messageId: id,
        to: 'x',
        username: 'a@b.c',
        password,
        csrBase64: 'QUJD',
        context: windowsContext('DEV1', { hwDevId: 'HW', deviceName: 'PC' }),
      }),
    );
    expect(isIssueRequest(r)).toBe(true);
    expect(r.token.base64).toBe('QUJD');
    expect(contextValue(r.additionalContext, 'DeviceID')).toBe('DEV1');
    expect(contextValue(r.additionalContext, 'EnrollmentType')).toBe('Full');
    expect(contextValues(r.additionalContext, 'MAC')).toHaveLength(1);
  });

  it('read the server responses and faults', () => {
    const discover = readDiscoverResponse(
      buildDiscoverResponse({
        relatesTo: 'urn:uuid:1',
        authPolicy: AuthPolicy.OnPremise,
        enrollmentPolicyServiceUrl: 'https://h/p',
        enrollmentServiceUrl: 'https://h/e',
      }),
    );
    expect(discover).toEqual({
      relatesTo: 'urn:uuid:1',
      authPolicy: 'OnPremise',
      enrollmentVersion: '4.0',
      policyUrl: 'https://h/p',
      enrollmentUrl: 'https://h/e',
    });

    const fault = readFault(
      buildSoapFault({
        action: Action.RequestSecurityTokenResponse,
        relatesTo: 'urn:uuid:2',
        subcode: SoapFaultSubcode.Authorization,
        reason: 'no',
        detail: { errorType: 'DeviceNotSupported', traceId: 't-1' },
      }),
    );
    expect(fault).toEqual({
      subcode: 's:Authorization',
      reason: 'no',
      errorType: 'DeviceNotSupported',
      traceId: 't-1',
      relatesTo: 'urn:uuid:2',
    });
    expect(readFault('<not xml')).toBeUndefined();

    const ca = Buffer.from('ca-der');
    const client = Buffer.from('client-der');
    const rstrc = buildRequestSecurityTokenResponse({
      relatesTo: 'urn:uuid:3',
      now: new Date(),
      provisioningDocXml: buildProvisioningDoc({
        caCertificateDer: ca,
        clientCertificateDer: client,
        clientCertificateSubject: 'CN=DEV1',
        certStore: 'User',
        managementUrl: 'https://h/ManagementServer/MDM.svc',
        providerId: 'mullion',
        displayName: 'Contoso',
        entDmId: 'abc',
        renewal: { renewPeriodDays: 42, retryIntervalDays: 4 },
      }),
    });
    const got = readEnrollmentResponse(rstrc);
    expect(got).toMatchObject({
      relatesTo: 'urn:uuid:3',
      clientStore: 'User',
      managementUrl: 'https://h/ManagementServer/MDM.svc',
      providerId: 'mullion',
    });
    expect(got.caCertDer.equals(ca)).toBe(true);
    expect(got.clientCertDer.equals(client)).toBe(true);
    expect(got.caThumbprint).toMatch(/^[0-9A-F]{40}$/);
    expect(got.application.SSLCLIENTCERTSEARCHCRITERIA).toBe('Subject=CN%3DDEV1&Stores=My%5CUser');
  });
});
