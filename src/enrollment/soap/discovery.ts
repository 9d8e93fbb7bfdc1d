import { attrs, el } from '../../common/xml';
import { Action, AuthPolicy, Ns } from './namespaces';
import {
  AddressingHeader,
  SoapRequestError,
  childrenOf,
  expectAction,
  optionalChild,
  readAddressing,
  readEnvelope,
  requiredChild,
  trimmedText,
  withMessageId,
} from './soap-request';
import { writeSoapResponse } from './soap-response';

const DISCOVERY_NS = [Ns.Discovery, Ns.DiscoveryDocVariant] as const;

/** MS-MDE2 3.1.4.1.1.1 Discover request; values are strings as sent (trimmed), never numbers. */
export interface DiscoverRequest {
  header: AddressingHeader;
  emailAddress?: string;
  /** `4.0` on Windows 10, `9.0` on 11 25H2: accept anything (enrollment.md §3.2, fleet #49329). */
  requestVersion?: string;
  deviceType?: string;
  applicationVersion?: string;
  osEdition?: string;
  /** The policies the client offers; the response must pick one of them. */
  authPolicies: string[];
}

export function parseDiscoverRequest(input: Buffer | string): DiscoverRequest {
  const envelope = readEnvelope(input);
  const header = readAddressing(envelope.header);
  expectAction(header, Action.Discover);
  return withMessageId(header.messageId, () => {
    const discover = envelope.payload;
    if (discover.name !== 'Discover' || !DISCOVERY_NS.some((ns) => ns === discover.ns)) {
      throw new SoapRequestError('missing-element', `Body holds ${discover.name}, not Discover`);
    }
    const request = requiredChild(discover, DISCOVERY_NS, 'request');
    const field = (name: string) => trimmedText(optionalChild(request, DISCOVERY_NS, name));
    const policies = optionalChild(request, DISCOVERY_NS, 'AuthPolicies');
    return {
      header,
      emailAddress: field('EmailAddress'),
      requestVersion: field('RequestVersion'),
      deviceType: field('DeviceType'),
      applicationVersion: field('ApplicationVersion'),
      osEdition: field('OSEdition'),
      authPolicies: policies
        ? childrenOf(policies, DISCOVERY_NS, 'AuthPolicy')
            .map((p) => trimmedText(p) ?? '')
            .filter((p) => p !== '')
        : [],
    };
  });
}

export interface DiscoverResponseInput {
  relatesTo: string;
  activityId?: string;
  authPolicy: AuthPolicy;
  /** Fleet and the PoC answer 4.0 (enrollment.md §3.3). */
  enrollmentVersion?: string;
  enrollmentPolicyServiceUrl?: string;
  enrollmentServiceUrl: string;
  /** Required with Federated, omitted otherwise (MS-MDE2 3.1.4.1.3.2). */
  authenticationServiceUrl?: string;
}

export function buildDiscoverResponse(input: DiscoverResponseInput): string {
  if (input.authPolicy === AuthPolicy.Federated && !input.authenticationServiceUrl) {
    throw new TypeError('Federated discovery needs an authenticationServiceUrl');
  }
  const result = el(
    'DiscoverResult',
    el('AuthPolicy', input.authPolicy),
    el('EnrollmentVersion', input.enrollmentVersion ?? '4.0'),
    input.enrollmentPolicyServiceUrl !== undefined &&
      el('EnrollmentPolicyServiceUrl', input.enrollmentPolicyServiceUrl),
    el('EnrollmentServiceUrl', input.enrollmentServiceUrl),
    input.authPolicy === AuthPolicy.Federated &&
      el('AuthenticationServiceUrl', input.authenticationServiceUrl),
  );
  return writeSoapResponse(
    { action: Action.DiscoverResponse, relatesTo: input.relatesTo, activityId: input.activityId },
    el('DiscoverResponse', attrs({ xmlns: Ns.Discovery }), result),
  );
}
