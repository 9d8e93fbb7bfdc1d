import { Inject, Injectable } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { assertFound, DomainError, ErrorCode, invalidData, notFound } from '../common/errors';
import { isDuplicateKey } from '../common/mongo/mongo-errors';
import { Page, PageRequest } from '../common/pagination/pagination';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DevicesService } from '../devices/devices.service';
import { CreateProfileDto, ProfileSettingDto, UpdateProfileDto } from './dto/profile.dto';
import { ProfilePlanner } from './profile-planner';
import { DevicesToPlan } from './target-bound';
import { ProfileDevicesRepository } from './profile-devices.repository';
import { profileConflict } from './profile-conflicts';
import { normalizeTargets, settingsProblems, targetsProblems } from './profile-rules';
import { ProfileAssignmentsRepository } from './profile-assignments.repository';
import { ProfileContent, ProfilesRepository } from './profiles.repository';
import { ProfileSetting, ProfileTargets, WinProfile } from './profiles.types';
import { conflictingPath, isDeviceList } from './targeting';

export const PROFILE_NAME_TAKEN = 'A profile with this name already exists in the enterprise';
export const PROFILE_CHANGED_CONCURRENTLY =
  'The profile was changed concurrently; read it and try again';

export type ProfileWriteResult = WinProfile & {
  devicesToPlan: number;
  devicesToPlanExact: boolean;
};

const answer = (n: DevicesToPlan) => ({ devicesToPlan: n.devices, devicesToPlanExact: n.exact });

function toSettings(dtos: ProfileSettingDto[]): ProfileSetting[] {
  return dtos.map((s) => ({
    path: s.path,
    format: s.format,
    ...(s.value !== undefined && { value: s.value }),
    action: s.action ?? 'Replace',
    verify: s.verify ?? true,
  }));
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

@Injectable()
export class ProfilesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly devices: DevicesService,
    private readonly profiles: ProfilesRepository,
    private readonly assignments: ProfileAssignmentsRepository,
    private readonly targetDevices: ProfileDevicesRepository,
    private readonly planner: ProfilePlanner,
  ) {}

  async create(
    user: AuthUser,
    orgIdOrSlug: string,
    dto: CreateProfileDto,
  ): Promise<ProfileWriteResult> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    const content: ProfileContent = {
      name: dto.name.trim(),
      description: dto.description ?? null,
      scope: dto.scope,
      settings: toSettings(dto.settings),
      atomic: dto.atomic ?? false,
      onRemove: dto.onRemove ?? 'delete',
      targets: this.checkedTargets(dto.targets),
    };
    await this.validate(enterprise.id, content);
    await this.assertNoConflict(enterprise.id, { id: '', ...content });
    const profile = await this.profiles
      .create(enterprise.organizationId, enterprise.id, content)
      .catch((e: unknown) => {
        if (isDuplicateKey(e)) throw nameTaken();
        throw e;
      });
    return { ...profile, ...answer(await this.planner.planProfile(profile)) };
  }

  async list(user: AuthUser, orgIdOrSlug: string, page: PageRequest): Promise<Page<WinProfile>> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    return this.profiles.list(enterprise.organizationId, enterprise.id, page);
  }

  async get(user: AuthUser, orgIdOrSlug: string, id: string): Promise<WinProfile> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    return this.find(enterprise.organizationId, enterprise.id, id);
  }

  /**
   * Every update is a new revision. Settings, scope or atomic changed: devices get the profile
   * again; targets changed: the plan reaches new devices and retires the others.
   */
  async update(
    user: AuthUser,
    orgIdOrSlug: string,
    id: string,
    dto: UpdateProfileDto,
  ): Promise<ProfileWriteResult> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    const current = await this.find(enterprise.organizationId, enterprise.id, id);
    const patch: Partial<ProfileContent> = {};
    if (dto.name !== undefined) patch.name = dto.name.trim();
    if (dto.description !== undefined) patch.description = dto.description;
    if (dto.scope !== undefined) patch.scope = dto.scope;
    if (dto.settings !== undefined) patch.settings = toSettings(dto.settings);
    if (dto.atomic !== undefined) patch.atomic = dto.atomic;
    if (dto.onRemove !== undefined) patch.onRemove = dto.onRemove;
    if (dto.targets !== undefined) patch.targets = this.checkedTargets(dto.targets);
    const next = { ...current, ...patch };
    await this.validate(enterprise.id, next);
    const contentChanged =
      next.scope !== current.scope ||
      next.atomic !== current.atomic ||
      !sameJson(next.settings, current.settings);
    const reachChanged = contentChanged || !sameJson(next.targets, current.targets);
    if (reachChanged) await this.assertNoConflict(enterprise.id, next);
    const updated = await this.profiles
      .update(enterprise.organizationId, id, current.revision, patch, contentChanged)
      .catch((e: unknown) => {
        if (isDuplicateKey(e)) throw nameTaken();
        throw e;
      });
    if (!updated) throw new DomainError(ErrorCode.Conflict, PROFILE_CHANGED_CONCURRENTLY);
    // A rename or a new description changes nothing on devices: assignments keep their revision.
    const planned =
      reachChanged || next.onRemove !== current.onRemove
        ? await this.planner.planProfile(updated)
        : { devices: 0, exact: true };
    return { ...updated, ...answer(planned) };
  }

  /**
   * The profile stops applying everywhere: its assignments are retired (removing or removed per
   * onRemove) by the planner; the document goes once none is left unfinished.
   */
  async delete(
    user: AuthUser,
    orgIdOrSlug: string,
    id: string,
  ): Promise<{ deleted: true; devicesToPlan: number; devicesToPlanExact: boolean }> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    await this.find(enterprise.organizationId, enterprise.id, id);
    const deleted = assertFound(
      await this.profiles.markDeleted(enterprise.organizationId, id, new Date()),
      'Profile',
    );
    return { deleted: true, ...answer(await this.planner.planProfile(deleted)) };
  }

  private async find(orgId: string, winEnterpriseId: string, id: string): Promise<WinProfile> {
    const profile = assertFound(await this.profiles.find(orgId, id), 'Profile');
    if (profile.winEnterpriseId !== winEnterpriseId) throw notFound('Profile');
    return profile;
  }

  private checkedTargets(t: UpdateProfileDto['targets'] & object): ProfileTargets {
    const problems = targetsProblems(t);
    if (problems.length) throw invalidData(problems);
    return normalizeTargets(t);
  }

  private async validate(
    winEnterpriseId: string,
    c: Pick<ProfileContent, 'scope' | 'settings' | 'targets'>,
  ): Promise<void> {
    const problems = settingsProblems(c.scope, c.settings, {
      valueMaxBytes: this.config.profiles.valueMaxBytes,
      maxSettings: this.config.profiles.maxSettings,
    });
    if (problems.length) throw invalidData(problems);
    if (isDeviceList(c.targets)) {
      const ids = c.targets.deviceIds;
      const found = new Set(
        (await this.targetDevices.labelsOf(winEnterpriseId, ids)).map((d) => d.id),
      );
      const missing = ids.findIndex((id) => !found.has(id));
      if (missing >= 0)
        throw invalidData([
          {
            field: `targets.deviceIds.${missing}`,
            message: 'is not a device of the enterprise',
          },
        ]);
    }
  }

  /**
   * 409 when another live profile of the same scope sets one of these paths to another value
   * and some device is reached by both. Candidates come from the (winEnterpriseId,
   * settingPaths) index; each is probed with one indexed `findOne` on the intersection of both
   * targets, so the fleet is never loaded.
   */
  private async assertNoConflict(
    winEnterpriseId: string,
    p: Pick<WinProfile, 'id' | 'name' | 'scope' | 'settings' | 'targets'>,
  ): Promise<void> {
    const others = await this.profiles.settingAnyPath(
      winEnterpriseId,
      p.settings.map((s) => s.path),
      p.id || undefined,
    );
    for (const other of others) {
      if (other.scope !== p.scope) continue;
      const path = conflictingPath(p, other);
      if (!path) continue;
      if (await this.targetDevices.anyReachedByBoth(winEnterpriseId, p.targets, other.targets))
        throw profileConflict({
          path,
          profiles: [
            { id: other.id, name: other.name },
            { id: p.id || '(new)', name: p.name },
          ],
        });
    }
  }

  /** Reconciliation reads the assignments of a device (profiles-reconcile builds on it). */
  assignmentsOfDevice(winDeviceId: string) {
    return this.assignments.forDevice(winDeviceId);
  }
}

function nameTaken(): DomainError {
  return new DomainError(ErrorCode.Conflict, PROFILE_NAME_TAKEN, [
    { field: 'name', message: PROFILE_NAME_TAKEN },
  ]);
}
