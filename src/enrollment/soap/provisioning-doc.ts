import { XmlContent, XmlNode, attrs, el, writeXml } from '../../common/xml';
import { SYNCML_CONTENT_TYPE } from '../../common/device-protocol';
import { thumbprintOf } from '../../pki/pem';
import type { PollSchedule as EnterprisePollSchedule } from '../../devices/devices.types';

/**
 * The wap-provisioningdoc returned in the RSTRC (enrollment.md §5.7): CertificateStore (root CA +
 * client certificate bound to the CSR key), w7 APPLICATION (the OMA-DM account) and DMClient.
 * w7 parm names and characteristic types are case-sensitive upper case (w7 APPLICATION CSP).
 */

export interface PollSchedule {
  intervalForFirstSetOfRetries: number;
  numberOfFirstRetries: number;
  intervalForSecondSetOfRetries: number;
  numberOfSecondRetries: number;
  intervalForRemainingScheduledRetries: number;
  /** 0 = repeat forever. */
  numberOfRemainingScheduledRetries: number;
  pollOnLogin: boolean;
  allUsersPollOnFirstLogin: boolean;
}

/** Microsoft's recommended schedule in minutes (DMClient CSP, Poll; enrollment.md §5.7 C). */
export const DEFAULT_POLL_SCHEDULE: PollSchedule = {
  intervalForFirstSetOfRetries: 15,
  numberOfFirstRetries: 5,
  intervalForSecondSetOfRetries: 60,
  numberOfSecondRetries: 10,
  intervalForRemainingScheduledRetries: 1440,
  numberOfRemainingScheduledRetries: 0,
  pollOnLogin: true,
  allUsersPollOnFirstLogin: true,
};

/** The enterprise's schedule (devices.types.ts) as the DMClient Poll parms. */
export function provisioningPoll(s: EnterprisePollSchedule | undefined): PollSchedule | undefined {
  if (!s) return undefined;
  return {
    intervalForFirstSetOfRetries: s.firstSet.intervalMinutes,
    numberOfFirstRetries: s.firstSet.count,
    intervalForSecondSetOfRetries: s.secondSet.intervalMinutes,
    numberOfSecondRetries: s.secondSet.count,
    intervalForRemainingScheduledRetries: s.steadyIntervalMinutes,
    numberOfRemainingScheduledRetries: s.steadyCount,
    pollOnLogin: s.pollOnLogin,
    allUsersPollOnFirstLogin: s.allUsersPollOnFirstLogin,
  };
}

/** APPAUTH secrets; nothing challenges them yet, so placeholders work (§5.7 B). */
export interface AppAuth {
  clientSecret: string;
  clientData: string;
  serverName: string;
  serverSecret: string;
  serverData: string;
}

export interface ProvisioningDocInput {
  caCertificateDer: Buffer;
  clientCertificateDer: Buffer;
  /** Subject of the issued certificate (`CN=<DeviceID>`), for SSLCLIENTCERTSEARCHCRITERIA. */
  clientCertificateSubject: string;
  /** EnrollmentType `Device` (Entra join) → My/System, otherwise My/User (§5.4). */
  certStore: 'User' | 'System';
  /** ADDR: the management URL; Windows appends its own query string. */
  managementUrl: string;
  /** PROVIDER-ID, also the DMClient Provider node name. */
  providerId: string;
  /** NAME: shown to the user. */
  displayName: string;
  /** EntDMID: our device id; must be set before any certificate renewal. */
  entDmId: string;
  upn?: string;
  poll?: PollSchedule;
  /**
   * DMClient Push/PFN: the Package Family Name WNS channels are requested for; the device then
   * reports Push/ChannelURI (management-session.md §7). Absent: no push section.
   */
  pushPfn?: string;
  appAuth?: AppAuth;
  renewal: RenewalParams;
}

/** CertificateStore `My/WSTEP/Renew` (CertificateStore CSP; enrollment.md §5.7 A, §9). */
export interface RenewalParams {
  /** Days before expiry from which the device renews (1-1000). */
  renewPeriodDays: number;
  /** Days between failed renewal attempts. */
  retryIntervalDays: number;
}

export interface RenewalDocInput {
  caCertificateDer: Buffer;
  clientCertificateDer: Buffer;
  certStore: 'User' | 'System';
  providerId: string;
  renewal: RenewalParams;
}

const PLACEHOLDER_APP_AUTH: AppAuth = {
  clientSecret: 'dummy',
  clientData: 'nonce',
  serverName: 'dummy',
  serverSecret: 'dummy',
  serverData: 'nonce',
};

export function buildProvisioningDoc(input: ProvisioningDocInput): string {
  const doc = el(
    'wap-provisioningdoc',
    attrs({ version: '1.1' }),
    certificateStore(input),
    application(input),
    dmClient(input),
  );
  return writeXml(doc);
}

/**
 * The renewal answer (certificate-renewal-windows-mdm, enrollment.md §9): the new certificate
 * (with the root, in case it is missing) and the APPLICATION PROVIDER-ID it belongs to; the
 * OMA-DM account and DMClient settings from enrollment stay as they are.
 */
export function buildRenewalProvisioningDoc(input: RenewalDocInput): string {
  const doc = el(
    'wap-provisioningdoc',
    attrs({ version: '1.1' }),
    certificateStore(input),
    characteristic('APPLICATION', parm('PROVIDER-ID', input.providerId)),
  );
  return writeXml(doc);
}

/** w7 CSP: only Subject and Stores are honoured; the values are URL-encoded. */
export function sslClientCertSearchCriteria(subject: string, store: 'User' | 'System'): string {
  return `Subject=${encodeURIComponent(subject)}&Stores=${encodeURIComponent(`My\\${store}`)}`;
}

function characteristic(type: string, ...content: XmlContent[]): XmlNode {
  return el('characteristic', attrs({ type }), ...content);
}

function parm(name: string, value?: string, datatype?: string): XmlNode {
  const a: Record<string, string> = { name };
  if (value !== undefined) a.value = value;
  if (datatype !== undefined) a.datatype = datatype;
  return el('parm', attrs(a));
}

/** CertificateStore CSP: thumbprint = SHA-1 of the DER, upper-case hex. */
function certificateStore(
  input: Pick<
    ProvisioningDocInput,
    'caCertificateDer' | 'clientCertificateDer' | 'certStore' | 'renewal'
  >,
): XmlNode {
  const encoded = (der: Buffer) => parm('EncodedCertificate', der.toString('base64'));
  return characteristic(
    'CertificateStore',
    characteristic(
      'Root',
      characteristic(
        'System',
        characteristic(thumbprintOf(input.caCertificateDer), encoded(input.caCertificateDer)),
      ),
    ),
    characteristic(
      'My',
      characteristic(
        input.certStore,
        characteristic(
          thumbprintOf(input.clientCertificateDer),
          encoded(input.clientCertificateDer),
        ),
        // Required sibling: binds the certificate to the key Windows generated for the CSR.
        characteristic('PrivateKeyContainer'),
      ),
      // Automatic renewal with the current certificate over client TLS (ROBO); no ServerURL, so
      // the device renews at the enrollment service URL it enrolled with.
      characteristic(
        'WSTEP',
        characteristic(
          'Renew',
          parm('ROBOSupport', 'true', 'boolean'),
          parm('RenewPeriod', String(input.renewal.renewPeriodDays), 'integer'),
          parm('RetryInterval', String(input.renewal.retryIntervalDays), 'integer'),
        ),
      ),
    ),
  );
}

function application(input: ProvisioningDocInput): XmlNode {
  const auth = input.appAuth ?? PLACEHOLDER_APP_AUTH;
  return characteristic(
    'APPLICATION',
    parm('APPID', 'w7'),
    parm('PROVIDER-ID', input.providerId),
    parm('NAME', input.displayName),
    parm('ADDR', input.managementUrl),
    parm('CONNRETRYFREQ', '6'),
    parm('INITIALBACKOFFTIME', '30000'),
    parm('MAXBACKOFFTIME', '120000'),
    // Presence alone disables the fallback to older DM protocol versions.
    parm('BACKCOMPATRETRYDISABLED'),
    parm('DEFAULTENCODING', SYNCML_CONTENT_TYPE),
    parm(
      'SSLCLIENTCERTSEARCHCRITERIA',
      sslClientCertSearchCriteria(input.clientCertificateSubject, input.certStore),
    ),
    // Both levels must be present; CLIENT must be DIGEST (w7 APPLICATION CSP).
    characteristic(
      'APPAUTH',
      parm('AAUTHLEVEL', 'CLIENT'),
      parm('AAUTHTYPE', 'DIGEST'),
      parm('AAUTHSECRET', auth.clientSecret),
      parm('AAUTHDATA', auth.clientData),
    ),
    characteristic(
      'APPAUTH',
      parm('AAUTHLEVEL', 'APPSRV'),
      parm('AAUTHTYPE', 'DIGEST'),
      parm('AAUTHNAME', auth.serverName),
      parm('AAUTHSECRET', auth.serverSecret),
      parm('AAUTHDATA', auth.serverData),
    ),
  );
}

function dmClient(input: ProvisioningDocInput): XmlNode {
  const poll = input.poll ?? DEFAULT_POLL_SCHEDULE;
  const int = (name: string, v: number) => parm(name, String(v), 'integer');
  const bool = (name: string, v: boolean) => parm(name, String(v), 'boolean');
  return characteristic(
    'DMClient',
    characteristic(
      'Provider',
      characteristic(
        input.providerId,
        parm('EntDMID', input.entDmId, 'string'),
        input.upn !== undefined && parm('UPN', input.upn, 'string'),
        characteristic(
          'Poll',
          int('IntervalForFirstSetOfRetries', poll.intervalForFirstSetOfRetries),
          int('NumberOfFirstRetries', poll.numberOfFirstRetries),
          int('IntervalForSecondSetOfRetries', poll.intervalForSecondSetOfRetries),
          int('NumberOfSecondRetries', poll.numberOfSecondRetries),
          int('IntervalForRemainingScheduledRetries', poll.intervalForRemainingScheduledRetries),
          int('NumberOfRemainingScheduledRetries', poll.numberOfRemainingScheduledRetries),
          bool('PollOnLogin', poll.pollOnLogin),
          bool('AllUsersPollOnFirstLogin', poll.allUsersPollOnFirstLogin),
        ),
        input.pushPfn !== undefined && characteristic('Push', parm('PFN', input.pushPfn, 'string')),
      ),
    ),
  );
}
