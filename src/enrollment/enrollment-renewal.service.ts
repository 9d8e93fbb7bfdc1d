import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DeviceCheckinService, type DeviceCertificate } from '../devices/device-checkin.service';
import { DeviceEnrollmentService } from '../devices/device-enrollment.service';
import { DeviceStatus } from '../devices/devices.types';
import { Pkcs7Error, issueDeviceCertificate, parseAndVerifyCsr, readSignedRequest } from '../pki';
import {
  BstValueType,
  EnrollmentErrorType,
  SoapFaultSubcode,
  TokenType,
  buildRenewalProvisioningDoc,
  buildRequestSecurityTokenResponse,
  contextValue,
  type RenewalParams,
  type RequestSecurityTokenRequest,
} from './soap';
import { EnrollmentFault } from './enrollment-fault';
import { activityId, type SoapCallContext } from './soap-context';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Start of a certificate's renewal window: RenewPeriod days before its notAfter. */
export function renewalDueAt(notAfter: Date, renewPeriodDays: number): Date {
  return new Date(notAfter.getTime() - renewPeriodDays * DAY_MS);
}

export function renewalParams(config: AppConfig): RenewalParams {
  return {
    renewPeriodDays: config.enrollment.renewPeriodDays,
    retryIntervalDays: config.enrollment.renewRetryIntervalDays,
  };
}

/**
 * MS-WSTEP renewal (MS-MDE2 3.4.4.1.1.1.4, enrollment.md §9): RequestType Renew with a PKCS#7
 * wrapping the new PKCS#10. The device proves its current certificate either in the TLS handshake
 * (ROBO: no token in the Security header) or by the SignedData's signature, made with that
 * certificate's key. The new certificate is for the same device id, from the enterprise CA,
 * with the same profile and validity as at enrollment.
 */
@Injectable()
export class EnrollmentRenewalService {
  private readonly logger = new Logger('Enrollment');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly devices: DeviceEnrollmentService,
    private readonly checkins: DeviceCheckinService,
  ) {}

  async renew(req: RequestSecurityTokenRequest, ctx: SoapCallContext): Promise<string> {
    if (
      req.tokenType !== TokenType.DeviceEnrollment ||
      req.token.valueType !== BstValueType.Pkcs7
    ) {
      throw new EnrollmentFault(
        SoapFaultSubcode.MessageFormat,
        'Expected a DeviceEnrollmentToken Renew request with a PKCS#7',
      );
    }
    const signed = readSigned(req.token.base64);
    const presented = this.presentedCertificate(ctx.clientCertificate, signed.signer);
    const refuse = (why: string, log = why): never => {
      this.logger.warn(`[${ctx.requestId}] renewal with ${presented.thumbprint} refused: ${log}`);
      throw new EnrollmentFault(
        SoapFaultSubcode.Authorization,
        why,
        EnrollmentErrorType.NotEligibleToRenew,
      );
    };

    const device = await this.devices.findByCertificate(presented.thumbprint);
    if (!device) return refuse('The certificate identifies no enrolled device');
    // An administrator's unenroll in progress (decisions.md: unenroll reaches the PC) ends the
    // certificate's life too: renewing it would keep a PC managed that is being let go.
    if (device.status === DeviceStatus.Unenrolled || device.status === DeviceStatus.Unenrolling) {
      return refuse(
        'The device is unenrolled: enroll it again',
        `device ${device.id} ${device.status}`,
      );
    }
    if (device.certificate?.source !== 'enrollment') {
      return refuse('Certificates an administrator registered are renewed by the administrator');
    }
    const distrust = await this.checkins.distrustFor(device, presented, ctx.now);
    if (distrust !== undefined) {
      return refuse(`The certificate cannot be renewed: ${distrust}`);
    }
    const csr = parseAndVerifyCsr(signed.content);
    // The request may only renew the device the certificate identifies.
    const claimed = [
      contextValue(req.additionalContext, 'DeviceID')?.trim(),
      csr.deviceIdExtension,
    ];
    const other = claimed.find((id) => id !== undefined && id !== device.deviceId);
    if (other !== undefined) {
      return refuse(
        "The request names another device than the certificate's",
        `request names ${other}, certificate is device ${device.deviceId}`,
      );
    }
    const enterprise = await this.devices.findEnterpriseById(device.winEnterpriseId);
    if (!enterprise || !(await this.devices.isOrganizationActive(enterprise.organizationId))) {
      return refuse('The organization does not accept enrollments');
    }

    const ca = await this.devices.caSigningMaterial(enterprise);
    const issued = await issueDeviceCertificate({
      ca,
      csrPublicKey: csr.publicKey,
      deviceId: device.deviceId,
      now: ctx.now,
      validityDays: this.config.enrollment.certValidityDays,
    });
    const renewed = await this.devices.renewDevice(device, {
      presentedThumbprint: presented.thumbprint,
      certificate: {
        thumbprint: issued.thumbprint,
        serialNumber: issued.serialNumber,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
      },
      renewalDueAt: renewalDueAt(issued.notAfter, this.config.enrollment.renewPeriodDays),
      at: ctx.now,
    });
    if (!renewed) {
      throw new EnrollmentFault(
        SoapFaultSubcode.EnrollmentServer,
        'The device changed while it was renewed; try again',
      );
    }
    this.logger.log(
      `[${ctx.requestId}] renewed the certificate of device ${device.deviceId} (${device.id}) ` +
        `via ${ctx.clientCertificate ? 'client TLS' : 'signed request'}: ${presented.thumbprint} → ${issued.thumbprint}`,
    );
    return buildRequestSecurityTokenResponse({
      relatesTo: req.header.messageId,
      activityId: activityId(ctx),
      provisioningDocXml: buildRenewalProvisioningDoc({
        caCertificateDer: ca.certificateDer,
        clientCertificateDer: issued.certificateDer,
        certStore: device.enrollment?.type === 'Device' ? 'System' : 'User',
        providerId: this.config.enrollment.providerId,
        renewal: renewalParams(this.config),
      }),
      now: ctx.now,
    });
  }

  /**
   * The TLS client certificate (ROBO) or else the SignedData's signer. When both are there they
   * must be the same certificate: one request proves one identity.
   */
  private presentedCertificate(
    tls: DeviceCertificate | null | undefined,
    signer: DeviceCertificate | undefined,
  ): DeviceCertificate {
    if (tls && signer && tls.thumbprint !== signer.thumbprint) {
      throw new EnrollmentFault(
        SoapFaultSubcode.Authorization,
        'The request is signed with another certificate than the TLS client certificate',
        EnrollmentErrorType.NotEligibleToRenew,
      );
    }
    const presented = tls ?? signer;
    if (!presented) {
      throw new EnrollmentFault(
        SoapFaultSubcode.Authentication,
        'Renewal needs the current certificate: in the TLS handshake or as the PKCS#7 signer',
      );
    }
    return presented;
  }
}

function readSigned(base64: string): ReturnType<typeof readSignedRequest> {
  try {
    return readSignedRequest(base64);
  } catch (e) {
    if (!(e instanceof Pkcs7Error)) throw e;
    throw new EnrollmentFault(
      e.reason === 'bad-signature'
        ? SoapFaultSubcode.Authentication
        : SoapFaultSubcode.MessageFormat,
      `The renewal request was refused: ${e.message}`,
    );
  }
}
