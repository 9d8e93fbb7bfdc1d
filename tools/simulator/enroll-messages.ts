import { randomUUID } from 'node:crypto';
import {
  attrs,
  el,
  parseXmlSafely,
  textOf,
  writeXml,
  type XmlElement,
  type XmlNode,
} from '../../src/common/xml';

/**
 * The SOAP a Windows enrollment client sends (MS-MDE2 discovery, MS-XCEP GetPolicies, MS-WSTEP
 * RST; enrollment.md §3-5), and readers for what comes back. Shaped after the captured Windows 10
 * traffic; prefixes as Windows writes them (the server must not care).
 */

const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://www.w3.org/2005/08/addressing',
  u: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wst: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
  ac: 'http://schemas.xmlsoap.org/ws/2006/12/authorization',
  discovery: 'http://schemas.microsoft.com/windows/management/2012/01/enrollment',
  policy: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xsd: 'http://www.w3.org/2001/XMLSchema',
} as const;

const ACTION = {
  discover:
    'http://schemas.microsoft.com/windows/management/2012/01/enrollment/IDiscoveryService/Discover',
  getPolicies:
    'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies',
  rst: 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep',
} as const;

const PASSWORD_TEXT =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';
const BASE64_BINARY =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary';

export const newMessageId = (): string => `urn:uuid:${randomUUID()}`;

function header(action: string, messageId: string, to: string, security?: XmlNode): XmlNode {
  return el(
    's:Header',
    el('a:Action', attrs({ 's:mustUnderstand': '1' }), action),
    el('a:MessageID', messageId),
    el('a:ReplyTo', el('a:Address', 'http://www.w3.org/2005/08/addressing/anonymous')),
    el('a:To', attrs({ 's:mustUnderstand': '1' }), to),
    security,
  );
}

/** wsse:Security with the OnPremise UsernameToken; the password travels as plain text (§5.2). */
function usernameToken(username: string, password: string): XmlNode {
  return el(
    'wsse:Security',
    attrs({ 's:mustUnderstand': '1' }),
    el(
      'wsse:UsernameToken',
      attrs({ 'u:Id': 'uuid-cc1ccc1f-2fba-4bcf-b063-ffc0cac77917-4' }),
      el('wsse:Username', username),
      el('wsse:Password', attrs({ 'wsse:Type': PASSWORD_TEXT }), password),
    ),
  );
}

const WSS_ENVELOPE_NS = {
  'xmlns:s': NS.s,
  'xmlns:a': NS.a,
  'xmlns:u': NS.u,
  'xmlns:wsse': NS.wsse,
  'xmlns:wst': NS.wst,
  'xmlns:ac': NS.ac,
};

export interface DiscoverInput {
  messageId: string;
  to: string;
  email: string;
  requestVersion?: string;
  authPolicies?: string[];
}

export function discoverRequest(i: DiscoverInput): string {
  return writeXml(
    el(
      's:Envelope',
      attrs({ 'xmlns:a': NS.a, 'xmlns:s': NS.s }),
      header(ACTION.discover, i.messageId, i.to),
      el(
        's:Body',
        el(
          'Discover',
          attrs({ xmlns: NS.discovery }),
          el(
            'request',
            attrs({ 'xmlns:i': NS.xsi }),
            el('EmailAddress', i.email),
            el('RequestVersion', i.requestVersion ?? '4.0'),
            el('DeviceType', 'CIMClient_Windows'),
            el('ApplicationVersion', '10.0.19045.2965'),
            el('OSEdition', '48'),
            el(
              'AuthPolicies',
              (i.authPolicies ?? ['OnPremise', 'Federated']).map((p) => el('AuthPolicy', p)),
            ),
          ),
        ),
      ),
    ),
    { headless: true },
  );
}

export interface CredentialInput {
  messageId: string;
  to: string;
  username: string;
  password: string;
}

export function getPoliciesRequest(i: CredentialInput): string {
  return writeXml(
    el(
      's:Envelope',
      attrs(WSS_ENVELOPE_NS),
      header(ACTION.getPolicies, i.messageId, i.to, usernameToken(i.username, i.password)),
      el(
        's:Body',
        attrs({ 'xmlns:xsi': NS.xsi, 'xmlns:xsd': NS.xsd }),
        el(
          'GetPolicies',
          attrs({ xmlns: NS.policy }),
          el(
            'client',
            el('lastUpdate', attrs({ 'xsi:nil': 'true' })),
            el('preferredLanguage', attrs({ 'xsi:nil': 'true' })),
          ),
          el('requestFilter', attrs({ 'xsi:nil': 'true' })),
        ),
      ),
    ),
    { headless: true },
  );
}

export interface RstInput extends CredentialInput {
  /** Base64 DER PKCS#10. */
  csrBase64: string;
  /** AdditionalContext items in order (names may repeat). */
  context: [name: string, value: string][];
}

export function rstRequest(i: RstInput): string {
  return rst(i, usernameToken(i.username, i.password), {
    requestType: 'Issue',
    tokenType: 'PKCS10',
    token: i.csrBase64,
  });
}

export interface RenewRstInput {
  messageId: string;
  to: string;
  /** Base64 DER CMS SignedData wrapping the new PKCS#10, signed with the current key. */
  pkcs7Base64: string;
  context: [name: string, value: string][];
}

/**
 * The automatic ("ROBO") renewal RST (MS-MDE2 3.4.4.1.1.1.4): no token in the Security header
 * (the client authenticates with its current certificate over TLS), RequestType Renew and the
 * body token a PKCS#7.
 */
export function renewRequest(i: RenewRstInput): string {
  return rst(i, undefined, { requestType: 'Renew', tokenType: 'PKCS7', token: i.pkcs7Base64 });
}

/** The MS-WSTEP RequestSecurityToken both requests share: they differ in the body token only. */
function rst(
  i: { messageId: string; to: string; context: [name: string, value: string][] },
  security: XmlNode | undefined,
  body: { requestType: 'Issue' | 'Renew'; tokenType: 'PKCS10' | 'PKCS7'; token: string },
): string {
  return writeXml(
    el(
      's:Envelope',
      attrs(WSS_ENVELOPE_NS),
      header(ACTION.rst, i.messageId, i.to, security),
      el(
        's:Body',
        el(
          'wst:RequestSecurityToken',
          el(
            'wst:TokenType',
            'http://schemas.microsoft.com/5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken',
          ),
          el(
            'wst:RequestType',
            `http://docs.oasis-open.org/ws-sx/ws-trust/200512/${body.requestType}`,
          ),
          el(
            'wsse:BinarySecurityToken',
            attrs({
              ValueType: `http://schemas.microsoft.com/windows/pki/2009/01/enrollment#${body.tokenType}`,
              EncodingType: BASE64_BINARY,
            }),
            body.token,
          ),
          el(
            'ac:AdditionalContext',
            attrs({ xmlns: NS.ac }),
            i.context.map(([name, value]) =>
              el('ac:ContextItem', attrs({ Name: name }), el('ac:Value', value)),
            ),
          ),
        ),
      ),
    ),
    { headless: true },
  );
}

/** Windows' AdditionalContext for a user-scope ("Full") enrollment from Settings (§5.1). */
export function windowsContext(
  deviceId: string,
  opts: { hwDevId: string; deviceName: string; enrollmentType?: string },
): [string, string][] {
  return [
    ['UXInitiated', 'true'],
    ['HWDevID', opts.hwDevId],
    ['Locale', 'en-US'],
    ['TargetedUserLoggedIn', 'true'],
    ['OSEdition', '48'],
    ['DeviceName', opts.deviceName],
    ['MAC', '00-15-5D-01-02-03'],
    ['DeviceID', deviceId],
    ['EnrollmentType', opts.enrollmentType ?? 'Full'],
    ['DeviceType', 'CIMClient_Windows'],
    ['OSVersion', '10.0.19045.2965'],
    ['ApplicationVersion', '10.0.19045.2965'],
    ['NotInOobe', 'false'],
  ];
}

/* ---- reading answers ---- */

export function parseSoap(xml: string): XmlElement {
  return parseXmlSafely(xml, { maxBytes: 1024 * 1024, maxDepth: 32, maxAttributes: 16 });
}

/** First descendant with this local name (depth-first, document order). */
export function findDeep(root: XmlElement, local: string): XmlElement | undefined {
  for (const c of root.children) {
    if (typeof c === 'string') continue;
    if (c.name === local) return c;
    const found = findDeep(c, local);
    if (found) return found;
  }
  return undefined;
}

const text = (root: XmlElement, local: string): string | undefined => {
  const e = findDeep(root, local);
  return e ? textOf(e).trim() : undefined;
};

export interface SoapFaultInfo {
  /** e.g. `s:Authentication`, `a:InvalidSecurity`. */
  subcode: string;
  reason: string;
  errorType?: string;
  traceId?: string;
  relatesTo?: string;
}

/** The fault in a response, or undefined when it is not one. */
export function readFault(xml: string): SoapFaultInfo | undefined {
  let root: XmlElement;
  try {
    root = parseSoap(xml);
  } catch {
    return undefined;
  }
  const fault = findDeep(root, 'Fault');
  if (!fault) return undefined;
  const subcode = findDeep(fault, 'Subcode');
  return {
    subcode: (subcode && text(subcode, 'Value')) ?? '',
    reason: text(fault, 'Text') ?? '',
    errorType: text(fault, 'ErrorType'),
    traceId: text(fault, 'TraceId'),
    relatesTo: text(root, 'RelatesTo'),
  };
}

export interface DiscoverAnswer {
  relatesTo?: string;
  authPolicy?: string;
  enrollmentVersion?: string;
  policyUrl?: string;
  enrollmentUrl?: string;
}

export function readDiscoverResponse(xml: string): DiscoverAnswer {
  const root = parseSoap(xml);
  return {
    relatesTo: text(root, 'RelatesTo'),
    authPolicy: text(root, 'AuthPolicy'),
    enrollmentVersion: text(root, 'EnrollmentVersion'),
    policyUrl: text(root, 'EnrollmentPolicyServiceUrl'),
    enrollmentUrl: text(root, 'EnrollmentServiceUrl'),
  };
}

export interface ProvisionedEnrollment {
  relatesTo?: string;
  /** The wap-provisioningdoc, decoded. */
  provisioningDoc: string;
  caThumbprint: string;
  caCertDer: Buffer;
  clientThumbprint: string;
  clientCertDer: Buffer;
  /** `User` or `System`. */
  clientStore: string;
  managementUrl: string;
  providerId: string;
  /** w7 parms by name (APPLICATION level). */
  application: Record<string, string>;
}

const characteristics = (e: XmlElement): XmlElement[] =>
  e.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === 'characteristic');
const typeOf = (e: XmlElement): string => e.attributes['type']?.value ?? '';
const child = (e: XmlElement, type: string): XmlElement | undefined =>
  characteristics(e).find((c) => typeOf(c) === type);
const parms = (e: XmlElement): Record<string, string> =>
  Object.fromEntries(
    e.children
      .filter((c): c is XmlElement => typeof c !== 'string' && c.name === 'parm')
      .map((p) => [p.attributes['name']?.value ?? '', p.attributes['value']?.value ?? '']),
  );

/** The RSTRC's provisioning document: certificates and the management account (§5.6, §5.7). */
export function readEnrollmentResponse(xml: string): ProvisionedEnrollment {
  const root = parseSoap(xml);
  const bst = findDeep(root, 'BinarySecurityToken');
  if (!bst) throw new Error('the RSTRC has no BinarySecurityToken');
  const provisioningDoc = Buffer.from(textOf(bst).replace(/\s+/g, ''), 'base64').toString('utf8');
  const doc = parseXmlSafely(provisioningDoc, { maxDepth: 32 });
  const store = characteristics(doc).find((c) => typeOf(c) === 'CertificateStore');
  const root1 = store && child(store, 'Root');
  const system = root1 && child(root1, 'System');
  const caNode = system && characteristics(system)[0];
  const my = store && child(store, 'My');
  const scope = my && characteristics(my)[0];
  const clientNode =
    scope && characteristics(scope).find((c) => typeOf(c) !== 'PrivateKeyContainer');
  const app = characteristics(doc).find((c) => typeOf(c) === 'APPLICATION');
  if (!caNode || !clientNode || !scope || !app)
    throw new Error('the provisioning document lacks certificates or APPLICATION');
  const application = parms(app);
  return {
    relatesTo: text(root, 'RelatesTo'),
    provisioningDoc,
    caThumbprint: typeOf(caNode),
    caCertDer: Buffer.from(parms(caNode).EncodedCertificate ?? '', 'base64'),
    clientThumbprint: typeOf(clientNode),
    clientCertDer: Buffer.from(parms(clientNode).EncodedCertificate ?? '', 'base64'),
    clientStore: typeOf(scope),
    managementUrl: application.ADDR ?? '',
    providerId: application['PROVIDER-ID'] ?? '',
    application,
  };
}
