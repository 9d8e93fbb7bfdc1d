import { Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { assertFound, notFound } from '../common/errors';
import { Page, PageRequest } from '../common/pagination/pagination';
import { DevicesService } from '../devices/devices.service';
import { ProfileAssignmentsRepository } from './profile-assignments.repository';
import { ProfilesRepository } from './profiles.repository';
import { ASSIGNMENT_STATES, AssignmentState, WinProfile } from './profiles.types';
import { ReconcileAssignment, ReconcileRepository } from './reconcile.repository';

export interface ProfileStatus {
  profileId: string;
  revision: number;
  counts: Record<AssignmentState, number>;
  devices: Page<ReconcileAssignment>;
}

export interface DeviceProfile {
  assignment: ReconcileAssignment;
  profile: Pick<WinProfile, 'id' | 'name' | 'scope' | 'revision'> | null;
}

/** Reading reconciliation's outcome: per profile (counts, devices) and per device. */
@Injectable()
export class ProfileStatusService {
  constructor(
    private readonly devices: DevicesService,
    private readonly profiles: ProfilesRepository,
    private readonly assignments: ProfileAssignmentsRepository,
    private readonly reconcile: ReconcileRepository,
  ) {}

  async profileStatus(
    user: AuthUser,
    orgIdOrSlug: string,
    profileId: string,
    page: PageRequest,
    state?: AssignmentState,
  ): Promise<ProfileStatus> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    const profile = assertFound(
      await this.profiles.find(enterprise.organizationId, profileId),
      'Profile',
    );
    if (profile.winEnterpriseId !== enterprise.id) throw notFound('Profile');
    // The page's total comes from the counts per state (every assignment of the profile is in
    // its organization): one read of the profile's assignments less, each of which decodes them
    // all on FerretDB.
    const counting = this.assignments.countByState(profileId);
    const total = counting.then((c) =>
      state ? (c[state] ?? 0) : Object.values(c).reduce((n, k) => n + (k ?? 0), 0),
    );
    const [counted, devices] = await Promise.all([
      counting,
      this.reconcile.list(enterprise.organizationId, profileId, page, state, total),
    ]);
    const counts = Object.fromEntries(ASSIGNMENT_STATES.map((s) => [s, counted[s] ?? 0])) as Record<
      AssignmentState,
      number
    >;
    return { profileId, revision: profile.revision, counts, devices };
  }

  async deviceProfiles(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
  ): Promise<DeviceProfile[]> {
    const { organization, device } = await this.devices.resolveDevice(
      user,
      orgIdOrSlug,
      winDeviceId,
    );
    const assignments = await this.reconcile.forDevice(organization.id, device.id);
    const profiles = new Map<string, WinProfile | null>();
    for (const a of assignments) {
      if (!profiles.has(a.profileId))
        profiles.set(a.profileId, await this.profiles.find(organization.id, a.profileId));
    }
    return assignments.map((assignment) => {
      const p = profiles.get(assignment.profileId);
      return {
        assignment,
        profile: p ? { id: p.id, name: p.name, scope: p.scope, revision: p.revision } : null,
      };
    });
  }
}
