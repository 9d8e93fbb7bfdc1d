import { XmlNode, attrs, el } from '../../common/xml';
import { Action, Ns } from './namespaces';
import { WsSecurityCredential, readCredential } from './security';
import {
  AddressingHeader,
  SoapRequestError,
  expectAction,
  optionalChild,
  readAddressing,
  readEnvelope,
  trimmedText,
  withMessageId,
} from './soap-request';
import { nil, writeSoapResponse } from './soap-response';

/** MS-XCEP 3.1.4.1.1.1 GetPolicies; authenticate `credential` exactly as at enrollment (§4.1). */
export interface GetPoliciesRequest {
  header: AddressingHeader;
  credential: WsSecurityCredential;
  /** undefined when absent or xsi:nil. */
  lastUpdate?: string;
  preferredLanguage?: string;
}

export function parseGetPoliciesRequest(input: Buffer | string): GetPoliciesRequest {
  const envelope = readEnvelope(input);
  const header = readAddressing(envelope.header);
  expectAction(header, Action.GetPolicies);
  return withMessageId(header.messageId, () => {
    const body = envelope.payload;
    if (body.name !== 'GetPolicies' || body.ns !== Ns.EnrollmentPolicy) {
      throw new SoapRequestError('missing-element', `Body holds ${body.name}, not GetPolicies`);
    }
    const credential = readCredential(envelope.header);
    const client = optionalChild(body, Ns.EnrollmentPolicy, 'client');
    const field = (name: string) =>
      client && trimmedText(optionalChild(client, Ns.EnrollmentPolicy, name));
    return {
      header,
      credential,
      lastUpdate: field('lastUpdate') || undefined,
      preferredLanguage: field('preferredLanguage') || undefined,
    };
  });
}

export interface GetPoliciesResponseInput {
  relatesTo: string;
  activityId?: string;
  /** attributes/commonName: free text naming the policy. */
  policyName?: string;
  /** Defaults are Fleet's production values (enrollment.md §4.2). */
  minimalKeyLength?: number;
  validityPeriodSeconds?: number;
  renewalPeriodSeconds?: number;
  cryptoProviders?: readonly string[];
}

export const POLICY_DEFAULTS = {
  policyName: 'MullionDeviceIdentity',
  minimalKeyLength: 2048,
  validityPeriodSeconds: 365 * 24 * 3600,
  renewalPeriodSeconds: 180 * 24 * 3600,
  cryptoProviders: [
    'Microsoft Platform Crypto Provider',
    'Microsoft Software Key Storage Provider',
  ],
} as const;

/**
 * MS-XCEP 3.1.4.1.1.2 GetPoliciesResponse with Fleet's known-good values: one v3 policy whose hash
 * is oID 0 = SHA-256 (group 4), plus oID 1 = rsaEncryption (group 3). `attributes` is an
 * xsd:sequence, so element order is fixed.
 */
export function buildGetPoliciesResponse(input: GetPoliciesResponseInput): string {
  const p = { ...POLICY_DEFAULTS, ...stripUndefined(input) };
  const privateKeyAttributes = el(
    'privateKeyAttributes',
    el('minimalKeyLength', String(p.minimalKeyLength)),
    nil('keySpec'),
    nil('keyUsageProperty'),
    nil('permissions'),
    nil('algorithmOIDReference'),
    p.cryptoProviders.length > 0
      ? el(
          'cryptoProviders',
          p.cryptoProviders.map((name) => el('provider', name)),
        )
      : nil('cryptoProviders'),
  );
  const attributes = el(
    'attributes',
    el('commonName', p.policyName),
    el('policySchema', '3'),
    el(
      'certificateValidity',
      el('validityPeriodSeconds', String(p.validityPeriodSeconds)),
      el('renewalPeriodSeconds', String(p.renewalPeriodSeconds)),
    ),
    el('permission', el('enroll', 'true'), el('autoEnroll', 'false')),
    privateKeyAttributes,
    el('revision', el('majorRevision', '101'), el('minorRevision', '0')),
    nil('supersededPolicies'),
    nil('privateKeyFlags'),
    nil('subjectNameFlags'),
    nil('enrollmentFlags'),
    nil('generalFlags'),
    el('hashAlgorithmOIDReference', '0'),
    nil('rARequirements'),
    nil('keyArchivalAttributes'),
    nil('extensions'),
  );
  const response = el(
    'response',
    el('policyID'),
    nil('policyFriendlyName'),
    nil('nextUpdateHours'),
    nil('policiesNotChanged'),
    el('policies', el('policy', el('policyOIDReference', '0'), nil('cAs'), attributes)),
  );
  const payload = el(
    'GetPoliciesResponse',
    attrs({ xmlns: Ns.EnrollmentPolicy }),
    response,
    nil('cAs'),
    el(
      'oIDs',
      oid('2.16.840.1.101.3.4.2.1', '4', '0', 'szOID_NIST_sha256'),
      oid('1.2.840.113549.1.1.1', '3', '1', 'szOID_RSA_RSA'),
    ),
  );
  return writeSoapResponse(
    {
      action: Action.GetPoliciesResponse,
      relatesTo: input.relatesTo,
      activityId: input.activityId,
    },
    payload,
    { envelopeNs: { u: Ns.WssUtility }, bodySchemaNs: true },
  );
}

/** MS-XCEP 3.1.4.1.3.16 OID: value, group (Windows OID group id), reference id, name. */
function oid(value: string, group: string, referenceId: string, name: string): XmlNode {
  return el(
    'oID',
    el('value', value),
    el('group', group),
    el('oIDReferenceID', referenceId),
    el('defaultName', name),
  );
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
