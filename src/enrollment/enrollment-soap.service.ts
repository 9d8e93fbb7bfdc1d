import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DeviceCheckinService } from '../devices/device-checkin.service';
import { DeviceEnrollmentService } from '../devices/device-enrollment.service';
import { DeviceStatus, WinDevice } from '../devices/devices.types';
import {
  ENROLLMENT_SERVICE_PATH,
  MANAGEMENT_PATH,
  POLICY_PATH,
  SOAP_CONTENT_TYPE,
} from '../common/device-protocol';
import { issueDeviceCertificate, parseAndVerifyCsr } from '../pki';
import {
  Action,
  AuthPolicy,
  EnrollmentErrorType,
  RequestType,
  SoapFaultSubcode,
  SoapRequestError,
  buildDiscoverResponse,
  buildGetPoliciesResponse,
  buildProvisioningDoc,
  provisioningPoll,
  buildRequestSecurityTokenResponse,
  buildSoapFault,
  contextValue,
  isIssueRequest,
  parseDiscoverRequest,
  parseGetPoliciesRequest,
  parseRequestSecurityToken,
  type ContextItem,
  type RequestSecurityTokenRequest,
  type WsSecurityCredential,
} from './soap';
import {
  EnrollmentAuthError,
  EnrollmentAuthService,
  EnrollmentPrincipal,
} from './enrollment-auth.service';
import { EnrollmentFault, classifyFailure } from './enrollment-fault';
import { EnrollmentRepository } from './enrollment.repository';
import {
  EnrollmentRenewalService,
  renewalDueAt,
  renewalParams,
} from './enrollment-renewal.service';
import { activityId, type SoapCallContext, type SoapReply } from './soap-context';

export type { SoapCallContext, SoapReply } from './soap-context';

/** DeviceID becomes the certificate CN (≤ 64) and must equal the SyncHdr Source later. */
const DEVICE_ID = /^[A-Za-z0-9_{}-]{1,64}$/;

/** The three MS-MDE2 services: bytes in, SOAP out; every failure is a fault (§11.1). */
@Injectable()
export class EnrollmentSoapService {
  private readonly logger = new Logger('Enrollment');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly auth: EnrollmentAuthService,
    private readonly devices: DeviceEnrollmentService,
    private readonly checkins: DeviceCheckinService,
    private readonly repo: EnrollmentRepository,
    private readonly renewal: EnrollmentRenewalService,
  ) {}

  private url(path: string): string {
    return `${this.config.device.publicBaseUrl}${path}`;
  }

  /** MS-MDE2 3.1: OnPremise, policy and enrollment on our public host; any RequestVersion. */
  async discover(body: Buffer | undefined, ctx: SoapCallContext): Promise<SoapReply> {
    return this.run(Action.DiscoverResponse, ctx, async (setRelatesTo) => {
      const req = parseDiscoverRequest(requireBody(body));
      setRelatesTo(req.header.messageId);
      if (req.authPolicies.length && !req.authPolicies.includes(AuthPolicy.OnPremise)) {
        throw new EnrollmentFault(
          SoapFaultSubcode.Authorization,
          `Only OnPremise enrollment is supported; the device offered ${req.authPolicies.join(', ')}`,
          EnrollmentErrorType.DeviceNotSupported,
        );
      }
      const domain = req.emailAddress?.split('@')[1] ?? '-';
      this.logger.log(
        `[${ctx.requestId}] discovery for domain ${domain} (RequestVersion ${req.requestVersion ?? '-'})`,
      );
      return buildDiscoverResponse({
        relatesTo: req.header.messageId,
        activityId: activityId(ctx),
        authPolicy: AuthPolicy.OnPremise,
        enrollmentVersion: '4.0',
        enrollmentPolicyServiceUrl: this.url(POLICY_PATH),
        enrollmentServiceUrl: this.url(ENROLLMENT_SERVICE_PATH),
      });
    });
  }

  /** MS-XCEP GetPolicies: authenticated exactly as the RST is (§4.1), nothing consumed. */
  async getPolicies(body: Buffer | undefined, ctx: SoapCallContext): Promise<SoapReply> {
    return this.run(Action.GetPoliciesResponse, ctx, async (setRelatesTo) => {
      const req = parseGetPoliciesRequest(requireBody(body));
      setRelatesTo(req.header.messageId);
      const principal = await this.authenticate(req.credential, ctx);
      this.logger.log(
        `[${ctx.requestId}] policy for ${principal.email} (enterprise ${principal.enterprise.id})`,
      );
      return buildGetPoliciesResponse({
        relatesTo: req.header.messageId,
        activityId: activityId(ctx),
        validityPeriodSeconds: this.config.enrollment.certValidityDays * 86400,
        // MS-XCEP renewalPeriod: the same window the provisioning document's RenewPeriod sets.
        renewalPeriodSeconds: this.config.enrollment.renewPeriodDays * 86400,
      });
    });
  }

  /** MS-WSTEP RST, processed in the order of enrollment.md §5.5. */
  async requestSecurityToken(body: Buffer | undefined, ctx: SoapCallContext): Promise<SoapReply> {
    return this.run(Action.RequestSecurityTokenResponse, ctx, async (setRelatesTo) => {
      const req = parseRequestSecurityToken(requireBody(body));
      setRelatesTo(req.header.messageId);
      if (req.requestType === RequestType.Renew) return this.renewal.renew(req, ctx);
      if (!isIssueRequest(req)) {
        throw new EnrollmentFault(
          SoapFaultSubcode.MessageFormat,
          'Expected a DeviceEnrollmentToken Issue request with a PKCS#10',
        );
      }
      const principal = await this.authenticate(req.credential, ctx);
      return this.enroll(req, principal, ctx);
    });
  }

  private async enroll(
    req: RequestSecurityTokenRequest,
    principal: EnrollmentPrincipal,
    ctx: SoapCallContext,
  ): Promise<string> {
    const context = req.additionalContext;
    const item = (name: string, max: number): string | undefined =>
      contextValue(context, name)?.trim().slice(0, max) || undefined;
    // §5.5 step 4: the three items every Windows enrollment sends, trimmed.
    const deviceId = requiredItem(context, 'DeviceID', 64);
    if (!DEVICE_ID.test(deviceId)) {
      throw new EnrollmentFault(
        SoapFaultSubcode.MessageFormat,
        'AdditionalContext DeviceID must be 1-64 letters, digits, dashes, underscores or braces',
        EnrollmentErrorType.InvalidEnrollmentData,
      );
    }
    const enrollmentType = requiredItem(context, 'EnrollmentType', 32);
    const hwDevId = requiredItem(context, 'HWDevID', 128);
    const csr = parseAndVerifyCsr(req.token.base64);
    // The CSR is untrusted except for its key; a DeviceID extension that disagrees is a forgery or a bug.
    if (csr.deviceIdExtension !== undefined && csr.deviceIdExtension !== deviceId) {
      throw new EnrollmentFault(
        SoapFaultSubcode.CertificateRequest,
        'The CSR DeviceID extension does not match the DeviceID',
      );
    }
    // Before anything is consumed, created or issued.
    await this.assertMayEnroll(principal, deviceId, hwDevId, ctx);
    const { enterprise } = principal;
    let consumedAt: Date | undefined;
    if (principal.invitationId) {
      if (!(await this.repo.consumeInvitation(principal.invitationId, deviceId, ctx.now))) {
        throw new EnrollmentAuthError(
          'Authentication',
          'The invitation was already used or has expired',
        );
      }
      consumedAt = ctx.now;
    }
    try {
      const mdmUserId =
        principal.mdmUserId ??
        (await this.devices.ensureUser(enterprise.organizationId, principal.email));
      const ca = await this.devices.caSigningMaterial(enterprise);
      const issued = await issueDeviceCertificate({
        ca,
        csrPublicKey: csr.publicKey,
        deviceId,
        now: ctx.now,
        validityDays: this.config.enrollment.certValidityDays,
      });
      const { device, created } = await this.devices.enrollDevice(
        enterprise,
        {
          deviceId,
          name: item('DeviceName', 200),
          mdmUserId,
          certificate: {
            thumbprint: issued.thumbprint,
            serialNumber: issued.serialNumber,
            notBefore: issued.notBefore,
            notAfter: issued.notAfter,
          },
          renewalDueAt: renewalDueAt(issued.notAfter, this.config.enrollment.renewPeriodDays),
          enrollment: {
            type: enrollmentType,
            hwDevId,
            deviceName: item('DeviceName', 200),
            osVersion: item('OSVersion', 64),
            osEdition: item('OSEdition', 16),
            userEmail: principal.email,
            via: principal.via,
            enrolledAt: ctx.now,
          },
        },
        // Checked again on the device as enrollDevice reads it: a concurrent enrollment between
        // the early check and the update cannot slip through.
        (existing) => this.authorizeOver(existing, principal, deviceId, hwDevId, ctx),
      );
      const provisioningDocXml = buildProvisioningDoc({
        caCertificateDer: ca.certificateDer,
        clientCertificateDer: issued.certificateDer,
        clientCertificateSubject: issued.subject,
        certStore: enrollmentType === 'Device' ? 'System' : 'User',
        managementUrl: this.url(MANAGEMENT_PATH),
        providerId: this.config.enrollment.providerId,
        displayName: this.config.enrollment.displayName ?? enterprise.name,
        entDmId: device.id,
        upn: principal.email,
        renewal: renewalParams(this.config),
        poll: provisioningPoll(enterprise.pollSchedule),
        pushPfn: this.config.push.enabled ? this.config.push.pfn : undefined,
      });
      this.logger.log(
        `[${ctx.requestId}] ${created ? 'enrolled' : 're-enrolled'} device ${deviceId} (${device.id}) in enterprise ` +
          `${enterprise.id} for ${principal.email} via ${principal.via}; certificate ${issued.thumbprint}`,
      );
      return buildRequestSecurityTokenResponse({
        relatesTo: req.header.messageId,
        activityId: activityId(ctx),
        provisioningDocXml,
        now: ctx.now,
      });
    } catch (e) {
      // The invitation was not used after all: let the user retry with it.
      if (principal.invitationId && consumedAt) {
        await this.repo
          .releaseInvitation(principal.invitationId, consumedAt)
          .catch(() => undefined);
      }
      throw e;
    }
  }

  /**
   * Enrolling a device id the enterprise already has replaces that device's certificate and user,
   * so nothing a user of the enterprise can type or a device can claim may be enough to take a
   * device over (decisions.md §12). Allowed when the device is unenrolled (it left, or an
   * administrator unenrolled it), when the request's TLS connection presents the device's current
   * client certificate (proof of its private key, which never leaves the device), or when an
   * invitation the administrator issued to the device's own MDM user is used. Not enough: the
   * enterprise secret with the owner's e-mail (the secret is shared and the e-mail is only typed)
   * and the HWDevID (client-supplied). Otherwise s:Authorization, and nothing changes.
   */
  private async assertMayEnroll(
    principal: EnrollmentPrincipal,
    deviceId: string,
    hwDevId: string,
    ctx: SoapCallContext,
  ): Promise<void> {
    const { enterprise } = principal;
    const existing = await this.devices.findEnrolledDevice(enterprise, deviceId);
    await this.authorizeOver(existing, principal, deviceId, hwDevId, ctx);
  }

  /** The rule itself, for the device as read (also re-applied when enrollDevice reads it again). */
  private async authorizeOver(
    existing: WinDevice | null,
    principal: EnrollmentPrincipal,
    deviceId: string,
    hwDevId: string,
    ctx: SoapCallContext,
  ): Promise<void> {
    const { enterprise } = principal;
    // An administrator's unenroll in progress (`unenrolling`) gave the device up as well.
    if (
      !existing ||
      existing.status === DeviceStatus.Unenrolled ||
      existing.status === DeviceStatus.Unenrolling
    )
      return;
    const cert = ctx.clientCertificate;
    const certWhy = cert
      ? await this.checkins.distrustFor(existing, cert, ctx.now)
      : 'no client certificate';
    if (certWhy === undefined) return;
    // An invitation names its user (the administrator bound it to that MDM user when issuing it).
    if (
      principal.via === 'invitation' &&
      principal.mdmUserId !== undefined &&
      principal.mdmUserId === existing.mdmUserId
    ) {
      return;
    }
    const sameHw = existing.enrollment?.hwDevId === hwDevId ? ', same HWDevID (not proof)' : '';
    this.logger.warn(
      `[${ctx.requestId}] ${principal.email} (${principal.via}) may not re-enroll device ${deviceId} ` +
        `(${existing.id}, ${existing.status}) of enterprise ${enterprise.id}: not unenrolled, ` +
        `client certificate: ${certWhy}, not the owner's invitation${sameHw}`,
    );
    throw new EnrollmentFault(
      SoapFaultSubcode.Authorization,
      'This device is enrolled by another user; an administrator must unenroll it before it can be enrolled again',
    );
  }

  private async authenticate(
    credential: WsSecurityCredential,
    ctx: SoapCallContext,
  ): Promise<EnrollmentPrincipal> {
    if (credential.kind === 'none') {
      throw new EnrollmentAuthError('Authentication', 'The request carries no credential');
    }
    if (credential.kind === 'binary-token') {
      throw new EnrollmentAuthError(
        'Authentication',
        'Only OnPremise username and password enrollment is supported',
      );
    }
    return this.auth.authenticate(credential.username, credential.password, ctx.sourceIp, ctx.now);
  }

  /** Runs one step; any failure becomes the fault MS-MDE2 2.2.10 assigns to it. */
  private async run(
    action: string,
    ctx: SoapCallContext,
    step: (setRelatesTo: (id: string) => void) => Promise<string>,
  ): Promise<SoapReply> {
    let relatesTo: string | undefined;
    try {
      const body = await step((id) => (relatesTo = id));
      return { status: 200, contentType: SOAP_CONTENT_TYPE, body };
    } catch (e) {
      const { fault, level, log } = classifyFailure(e, ctx.sourceIp);
      this.logger[level](`[${ctx.requestId}] ${log}`);
      if (e instanceof SoapRequestError && e.messageId !== undefined) relatesTo = e.messageId;
      return {
        status: this.config.enrollment.faultHttpStatus,
        contentType: SOAP_CONTENT_TYPE,
        body: buildSoapFault({
          action,
          relatesTo,
          activityId: activityId(ctx),
          subcode: fault.subcode,
          reason: fault.message,
          detail: { errorType: fault.errorType, traceId: ctx.requestId },
        }),
      };
    }
  }
}

/** A context item §5.5 requires, trimmed: MessageFormat when missing, empty or too long. */
function requiredItem(context: readonly ContextItem[], name: string, max: number): string {
  const value = contextValue(context, name)?.trim();
  if (!value || value.length > max) {
    throw new EnrollmentFault(
      SoapFaultSubcode.MessageFormat,
      `AdditionalContext ${name} is ${value ? `longer than ${max} characters` : 'missing'}`,
      EnrollmentErrorType.InvalidEnrollmentData,
    );
  }
  return value;
}

function requireBody(body: Buffer | undefined): Buffer {
  if (!body || !body.length) throw new SoapRequestError('malformed-xml', 'empty body');
  return body;
}
