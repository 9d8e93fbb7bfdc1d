import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XmlElement, childElements, firstChild, parseXmlSafely, textOf } from '../../common/xml';
import { EnterpriseCa, createEnterpriseCa } from '../../pki/ca';
import { parseAndVerifyCsr } from '../../pki/csr';
import { IssuedCertificate, issueDeviceCertificate } from '../../pki/issue';
import {
  contextValue,
  parseRequestSecurityToken,
  buildRequestSecurityTokenResponse,
} from './enrollment';
import {
  DEFAULT_POLL_SCHEDULE,
  ProvisioningDocInput,
  buildProvisioningDoc,
  buildRenewalProvisioningDoc,
  provisioningPoll,
  sslClientCertSearchCriteria,
} from './provisioning-doc';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const MANAGEMENT_URL = 'https://mdm.example.com/ManagementServer/MDM.svc?org=acme&x=1';

let ca: EnterpriseCa;
let issued: IssuedCertificate;
let deviceId: string;
let messageId: string;

beforeAll(async () => {
  const req = parseRequestSecurityToken(readFileSync(join(__dirname, 'fixtures/rst.xml')));
  messageId = req.header.messageId;
  deviceId = contextValue(req.additionalContext, 'DeviceID') ?? '';
  ca = await createEnterpriseCa({ commonName: 'Acme Device CA', now: NOW, keyBits: 2048 });
  issued = await issueDeviceCertificate({
    ca,
    csrPublicKey: parseAndVerifyCsr(req.token.base64).publicKey,
    deviceId,
    now: NOW,
  });
}, 30_000);

function input(overrides: Partial<ProvisioningDocInput> = {}): ProvisioningDocInput {
  return {
    caCertificateDer: ca.certificateDer,
    clientCertificateDer: issued.certificateDer,
    clientCertificateSubject: issued.subject,
    certStore: 'User',
    managementUrl: MANAGEMENT_URL,
    providerId: 'Mullion',
    displayName: 'Acme & Co MDM',
    entDmId: 'dev-0001',
    renewal: { renewPeriodDays: 42, retryIntervalDays: 4 },
    ...overrides,
  };
}

/** Walks characteristic types: chr(doc, 'CertificateStore', 'Root', 'System'). */
function chr(root: XmlElement, ...types: string[]): XmlElement {
  let el = root;
  for (const type of types) {
    const next = childElements(el).find(
      (c) => c.name === 'characteristic' && c.attributes.type?.value === type,
    );
    if (!next) throw new Error(`no characteristic ${type}`);
    el = next;
  }
  return el;
}

function parms(el: XmlElement): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const p of childElements(el).filter((c) => c.name === 'parm')) {
    out[p.attributes.name.value] = p.attributes.value?.value;
  }
  return out;
}

/** The document as the device gets it: out of the RSTRC, base64-decoded. */
function deliveredDoc(overrides: Partial<ProvisioningDocInput> = {}): {
  xml: string;
  root: XmlElement;
} {
  const rstrc = parseXmlSafely(
    buildRequestSecurityTokenResponse({
      relatesTo: messageId,
      provisioningDocXml: buildProvisioningDoc(input(overrides)),
      now: NOW,
    }),
  );
  const body = firstChild(rstrc, 'Body')!;
  const rstr = firstChild(
    firstChild(body, 'RequestSecurityTokenResponseCollection')!,
    'RequestSecurityTokenResponse',
  )!;
  const bst = firstChild(firstChild(rstr, 'RequestedSecurityToken')!, 'BinarySecurityToken')!;
  const xml = Buffer.from(textOf(bst), 'base64').toString('utf8');
  return { xml, root: parseXmlSafely(xml) };
}

describe('provisioning doc delivered in the RSTRC', () => {
  it('is a wap-provisioningdoc 1.1 with CertificateStore, APPLICATION and DMClient', () => {
    const { root } = deliveredDoc();
    expect(root.name).toBe('wap-provisioningdoc');
    expect(root.attributes.version?.value).toBe('1.1');
    expect(childElements(root).map((c) => c.attributes.type?.value)).toEqual([
      'CertificateStore',
      'APPLICATION',
      'DMClient',
    ]);
  });

  it('installs the CA under Root/System/<CA thumbprint>', () => {
    const { root } = deliveredDoc();
    const caNode = chr(root, 'CertificateStore', 'Root', 'System', ca.thumbprint);
    expect(parms(caNode).EncodedCertificate).toBe(ca.certificateDer.toString('base64'));
  });

  it('installs the client certificate under My/User with a sibling PrivateKeyContainer', () => {
    const { root } = deliveredDoc();
    const store = chr(root, 'CertificateStore', 'My', 'User');
    expect(childElements(store).map((c) => c.attributes.type?.value)).toEqual([
      issued.thumbprint,
      'PrivateKeyContainer',
    ]);
    expect(parms(chr(store, issued.thumbprint)).EncodedCertificate).toBe(
      issued.certificateDer.toString('base64'),
    );
  });

  it('configures ROBO renewal under My/WSTEP/Renew with explicit datatypes', () => {
    const { root, xml } = deliveredDoc({ renewal: { renewPeriodDays: 30, retryIntervalDays: 3 } });
    expect(parms(chr(root, 'CertificateStore', 'My', 'WSTEP', 'Renew'))).toEqual({
      ROBOSupport: 'true',
      RenewPeriod: '30',
      RetryInterval: '3',
    });
    expect(xml).toContain('<parm name="ROBOSupport" value="true" datatype="boolean"/>');
    expect(xml).toContain('<parm name="RenewPeriod" value="30" datatype="integer"/>');
  });

  it('answers a renewal with the new certificate, the root and the PROVIDER-ID only', () => {
    const root = parseXmlSafely(
      buildRenewalProvisioningDoc({
        caCertificateDer: ca.certificateDer,
        clientCertificateDer: issued.certificateDer,
        certStore: 'User',
        providerId: 'Mullion',
        renewal: { renewPeriodDays: 42, retryIntervalDays: 4 },
      }),
    );
    expect(childElements(root).map((c) => c.attributes.type?.value)).toEqual([
      'CertificateStore',
      'APPLICATION',
    ]);
    expect(parms(chr(root, 'APPLICATION'))).toEqual({ 'PROVIDER-ID': 'Mullion' });
    const store = chr(root, 'CertificateStore', 'My', 'User');
    expect(parms(chr(store, issued.thumbprint)).EncodedCertificate).toBe(
      issued.certificateDer.toString('base64'),
    );
    expect(parms(chr(root, 'CertificateStore', 'My', 'WSTEP', 'Renew')).RenewPeriod).toBe('42');
  });

  it('uses My/System for device-scope enrollments', () => {
    const { root } = deliveredDoc({ certStore: 'System' });
    const my = chr(root, 'CertificateStore', 'My');
    expect(childElements(my).map((c) => c.attributes.type?.value)).toEqual(['System', 'WSTEP']);
    expect(parms(chr(my, 'System', issued.thumbprint)).EncodedCertificate).toBe(
      issued.certificateDer.toString('base64'),
    );
    expect(parms(chr(root, 'APPLICATION')).SSLCLIENTCERTSEARCHCRITERIA).toBe(
      `Subject=CN%3D${deviceId}&Stores=My%5CSystem`,
    );
  });

  it('configures the w7 APPLICATION, escaping & exactly once', () => {
    const { xml, root } = deliveredDoc();
    const app = chr(root, 'APPLICATION');
    expect(parms(app)).toEqual({
      APPID: 'w7',
      'PROVIDER-ID': 'Mullion',
      NAME: 'Acme & Co MDM',
      ADDR: MANAGEMENT_URL,
      CONNRETRYFREQ: '6',
      INITIALBACKOFFTIME: '30000',
      MAXBACKOFFTIME: '120000',
      BACKCOMPATRETRYDISABLED: undefined,
      DEFAULTENCODING: 'application/vnd.syncml.dm+xml',
      SSLCLIENTCERTSEARCHCRITERIA: `Subject=CN%3D${deviceId}&Stores=My%5CUser`,
    });
    expect(xml).toContain('MDM.svc?org=acme&amp;x=1"');
    expect(xml).toContain(`value="Subject=CN%3D${deviceId}&amp;Stores=My%5CUser"`);
    const auth = childElements(app).filter((c) => c.attributes.type?.value === 'APPAUTH');
    expect(auth.map((a) => parms(a))).toEqual([
      { AAUTHLEVEL: 'CLIENT', AAUTHTYPE: 'DIGEST', AAUTHSECRET: 'dummy', AAUTHDATA: 'nonce' },
      {
        AAUTHLEVEL: 'APPSRV',
        AAUTHTYPE: 'DIGEST',
        AAUTHNAME: 'dummy',
        AAUTHSECRET: 'dummy',
        AAUTHDATA: 'nonce',
      },
    ]);
  });

  it('sets DMClient EntDMID and the poll schedule under the provider id', () => {
    const { root } = deliveredDoc({ upn: 'demo@example.com' });
    const provider = chr(root, 'DMClient', 'Provider', 'Mullion');
    expect(parms(provider)).toEqual({ EntDMID: 'dev-0001', UPN: 'demo@example.com' });
    const poll = chr(provider, 'Poll');
    expect(parms(poll)).toEqual({
      IntervalForFirstSetOfRetries: String(DEFAULT_POLL_SCHEDULE.intervalForFirstSetOfRetries),
      NumberOfFirstRetries: '5',
      IntervalForSecondSetOfRetries: '60',
      NumberOfSecondRetries: '10',
      IntervalForRemainingScheduledRetries: '1440',
      NumberOfRemainingScheduledRetries: '0',
      PollOnLogin: 'true',
      AllUsersPollOnFirstLogin: 'true',
    });
    const datatypes = childElements(poll).map((p) => p.attributes.datatype?.value);
    expect(datatypes).toEqual([...Array(6).fill('integer'), 'boolean', 'boolean']);
    // No PFN configured: no push section.
    expect(() => chr(provider, 'Push')).toThrow('no characteristic Push');
  });

  it("sets the enterprise's poll schedule and the push PFN when given", () => {
    const { root } = deliveredDoc({
      pushPfn: 'Contoso.Mdm_8wekyb3d8bbwe',
      poll: provisioningPoll({
        firstSet: { intervalMinutes: 3, count: 5 },
        secondSet: { intervalMinutes: 15, count: 8 },
        steadyIntervalMinutes: 480,
        steadyCount: 0,
        pollOnLogin: true,
        allUsersPollOnFirstLogin: false,
      }),
    });
    const provider = chr(root, 'DMClient', 'Provider', 'Mullion');
    expect(parms(chr(provider, 'Push'))).toEqual({ PFN: 'Contoso.Mdm_8wekyb3d8bbwe' });
    expect(parms(chr(provider, 'Poll'))).toEqual({
      IntervalForFirstSetOfRetries: '3',
      NumberOfFirstRetries: '5',
      IntervalForSecondSetOfRetries: '15',
      NumberOfSecondRetries: '8',
      IntervalForRemainingScheduledRetries: '480',
      NumberOfRemainingScheduledRetries: '0',
      PollOnLogin: 'true',
      AllUsersPollOnFirstLogin: 'false',
    });
  });
});

describe('sslClientCertSearchCriteria', () => {
  it('URL-encodes the subject and the store', () => {
    expect(sslClientCertSearchCriteria('CN=a b,O=x&y', 'User')).toBe(
      'Subject=CN%3Da%20b%2CO%3Dx%26y&Stores=My%5CUser',
    );
  });
});
