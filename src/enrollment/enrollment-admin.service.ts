import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '../auth/auth-user';
import { assertFound, invalidData } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DeviceEnrollmentService } from '../devices/device-enrollment.service';
import { DevicesService } from '../devices/devices.service';
import { parseDuration } from './duration';
import {
  generateEnrollmentSecret,
  generateInvitationToken,
  hashSecret,
  normalizeSecret,
} from './enrollment-secrets';
import { EnrollmentRepository } from './enrollment.repository';
import { CreateEnrollmentTokensDto } from './dto/enrollment-admin.dto';

export interface IssuedInvitation {
  email: string;
  token: string;
  expiresAt: Date;
  deepLink: string;
  mdmUserId: string;
}

/** `ms-device-enrollment:` deep link (Windows 10 1703+; enrollment.md §2). */
export function enrollmentDeepLink(email: string, publicBaseUrl: string): string {
  const username = encodeURIComponent(email).replace(/%40/g, '@');
  return `ms-device-enrollment:?mode=mdm&username=${username}&servername=${publicBaseUrl}`;
}

/** Administrator side of enrollment: the enterprise secret and one-time invitations. */
@Injectable()
export class EnrollmentAdminService {
  private readonly logger = new Logger('EnrollmentAdmin');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly devices: DevicesService,
    private readonly enrollment: DeviceEnrollmentService,
    private readonly repo: EnrollmentRepository,
  ) {}

  async rotateSecret(
    user: AuthUser,
    orgIdOrSlug: string,
    now = new Date(),
  ): Promise<{ secret: string; rotatedAt: Date }> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    const secret = generateEnrollmentSecret();
    assertFound(
      await this.enrollment.setEnrollmentSecretHash(
        enterprise,
        hashSecret(normalizeSecret(secret)),
        now,
      ),
      'Enterprise',
    );
    this.logger.log(`Enrollment secret of enterprise ${enterprise.id} rotated by ${user.subject}`);
    return { secret, rotatedAt: now };
  }

  async invite(
    user: AuthUser,
    orgIdOrSlug: string,
    dto: CreateEnrollmentTokensDto,
    now = new Date(),
  ): Promise<IssuedInvitation[]> {
    const limits = this.config.enrollment;
    const seconds =
      dto.duration === undefined ? limits.tokenDefaultTtlSeconds : parseDuration(dto.duration);
    if (
      seconds === null ||
      seconds < limits.tokenMinTtlSeconds ||
      seconds > limits.tokenMaxTtlSeconds
    ) {
      throw invalidData([
        {
          field: 'duration',
          message: `duration must be between ${limits.tokenMinTtlSeconds} and ${limits.tokenMaxTtlSeconds} seconds`,
        },
      ]);
    }
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    const emails = [...new Set(dto.userEmails.map((e) => e.trim().toLowerCase()))];
    const expiresAt = new Date(now.getTime() + seconds * 1000);
    const issued: IssuedInvitation[] = [];
    for (const email of emails) {
      const mdmUserId = await this.enrollment.ensureUser(enterprise.organizationId, email);
      issued.push({
        email,
        token: generateInvitationToken(),
        expiresAt,
        deepLink: enrollmentDeepLink(email, this.config.device.publicBaseUrl),
        mdmUserId,
      });
    }
    await this.repo.insertInvitations(
      enterprise.organizationId,
      issued.map((i) => ({
        winEnterpriseId: enterprise.id,
        mdmUserId: i.mdmUserId,
        email: i.email,
        tokenHash: hashSecret(normalizeSecret(i.token)),
        expiresAt,
        createdBy: user.subject,
      })),
      now,
    );
    this.logger.log(
      `${issued.length} enrollment invitations for enterprise ${enterprise.id} by ${user.subject}`,
    );
    return issued;
  }
}
