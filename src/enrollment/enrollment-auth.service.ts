import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DeviceEnrollmentService } from '../devices/device-enrollment.service';
import type { WinEnterprise } from '../devices/devices.types';
import { digestsEqual, hashSecret, normalizeSecret, passwordKind } from './enrollment-secrets';
import { EnrollmentRepository } from './enrollment.repository';
import { FailureLimiter } from './failure-limiter';

/** Who is enrolling: the enterprise, the user, and how they proved it. */
export interface EnrollmentPrincipal {
  enterprise: WinEnterprise;
  /** Lower case. */
  email: string;
  via: 'secret' | 'invitation';
  /** The invitation to consume at the RST step (not at the policy step). */
  invitationId?: string;
  /** Known when an invitation created the user; the secret path creates it at enrollment. */
  mdmUserId?: string;
}

/** Maps to the s:Authentication / s:Authorization faults (MS-MDE2 2.2.10). */
export class EnrollmentAuthError extends Error {
  override readonly name = 'EnrollmentAuthError';
  constructor(
    readonly fault: 'Authentication' | 'Authorization',
    /** For the log and the fault's Reason; never contains the password. */
    message: string,
    readonly opts: {
      /**
       * False when the password was right and something else refused it (a suspended
       * organization): not a failed guess, not counted.
       */
      counted?: boolean;
      /** For the log only: what the caller is not told. */
      logDetail?: string;
    } = {},
  ) {
    super(message);
  }

  get counted(): boolean {
    return this.opts.counted ?? true;
  }
}

/** The one answer to a wrong password, and to any failure beyond the limits. */
export const WRONG_CREDENTIALS = 'Wrong enrollment secret or invitation';

/** Plain enough for routing by domain; the real check is the password. */
const EMAIL =
  /^[^\s@"<>()\\,;:]{1,64}@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)$/;

/**
 * OnPremise UsernameToken authentication (enrollment.md §5.3): username = the user's e-mail,
 * password = the enterprise's enrollment secret (the e-mail's domain names the enterprise) or a
 * one-time invitation (which names it itself).
 *
 * Failures are counted per client address and per username, but the credential is always
 * checked first: a right one always passes (and clears that username's count), so a stranger's
 * wrong passwords can lock no user — and no office behind one address — out. Beyond the limits a
 * failure is only answered with the plain wrong-credentials fault, whatever the reason (unknown
 * domain, used or expired invitation…), so a noisy source learns nothing more. This gives up no
 * real protection: secrets (160 bits) and invitations (140 bits) are random, typed by nobody
 * from memory, and cannot be guessed at any request rate, limited or not.
 */
@Injectable()
export class EnrollmentAuthService {
  private readonly logger = new Logger('EnrollmentAuth');
  private readonly failures: FailureLimiter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly devices: DeviceEnrollmentService,
    private readonly repo: EnrollmentRepository,
  ) {
    this.failures = new FailureLimiter(config.enrollment.failureWindowMs);
  }

  async authenticate(
    username: string,
    password: string,
    sourceIp: string,
    now = new Date(),
  ): Promise<EnrollmentPrincipal> {
    const email = username.trim().toLowerCase();
    const ipKey = `ip:${sourceIp}`;
    const userKey = `user:${email.slice(0, 320)}`;
    try {
      const principal = await this.check(email, password, now);
      this.failures.reset(userKey);
      return principal;
    } catch (e) {
      if (!(e instanceof EnrollmentAuthError) || !e.counted) throw e;
      const t = now.getTime();
      const limits = this.config.enrollment;
      const over =
        this.failures.isBlocked(ipKey, limits.maxFailuresPerIp, t) ||
        this.failures.isBlocked(userKey, limits.maxFailuresPerUser, t);
      this.failures.fail(ipKey, t);
      this.failures.fail(userKey, t);
      if (!over) throw e;
      throw new EnrollmentAuthError('Authentication', WRONG_CREDENTIALS, {
        logDetail: `${e.fault}: ${e.message}; over the failure limit (user ${JSON.stringify(email.slice(0, 100))})`,
      });
    }
  }

  private async check(email: string, password: string, now: Date): Promise<EnrollmentPrincipal> {
    const domain = EMAIL.exec(email)?.[1];
    if (!domain) {
      throw new EnrollmentAuthError('Authentication', 'The username must be an e-mail address');
    }
    const secret = normalizeSecret(password);
    const kind = passwordKind(secret);
    const hash = hashSecret(secret);
    if (kind === 'invitation') return this.checkInvitation(email, hash, now);
    const lookup = await this.devices.findEnterpriseByDomain(domain);
    if (lookup.kind === 'ambiguous') {
      this.logger.error(
        `Domain ${domain} is claimed by more than one enterprise: enrollment refused`,
      );
    }
    if (lookup.kind !== 'found') {
      throw new EnrollmentAuthError('Authorization', `No organization enrolls users of ${domain}`);
    }
    const enterprise = lookup.enterprise;
    const stored = kind === 'secret' ? lookup.secretHash : null;
    if (!stored || !digestsEqual(stored, hash)) {
      throw new EnrollmentAuthError('Authentication', WRONG_CREDENTIALS);
    }
    await this.assertActive(enterprise);
    return { enterprise, email, via: 'secret' };
  }

  /** An invitation names its enterprise: the e-mail's domain does not have to be claimed. */
  private async checkInvitation(
    email: string,
    hash: string,
    now: Date,
  ): Promise<EnrollmentPrincipal> {
    const invitation = await this.repo.findInvitationByHash(hash);
    if (!invitation || !digestsEqual(invitation.tokenHash, hash)) {
      throw new EnrollmentAuthError('Authentication', 'Unknown or mistyped invitation');
    }
    if (invitation.email !== email) {
      throw new EnrollmentAuthError('Authentication', 'The invitation belongs to another user');
    }
    if (invitation.usedAt)
      throw new EnrollmentAuthError('Authentication', 'The invitation was already used');
    if (invitation.expiresAt.getTime() <= now.getTime()) {
      throw new EnrollmentAuthError('Authentication', 'The invitation has expired');
    }
    const enterprise = await this.devices.findEnterpriseById(invitation.winEnterpriseId);
    if (!enterprise) {
      throw new EnrollmentAuthError('Authorization', 'The invitation has no enterprise', {
        counted: false,
      });
    }
    await this.assertActive(enterprise);
    return {
      enterprise,
      email,
      via: 'invitation',
      invitationId: invitation.id,
      mdmUserId: invitation.mdmUserId,
    };
  }

  private async assertActive(enterprise: WinEnterprise): Promise<void> {
    if (!(await this.devices.isOrganizationActive(enterprise.organizationId))) {
      throw new EnrollmentAuthError('Authorization', 'The organization is not active', {
        counted: false,
      });
    }
  }
}
