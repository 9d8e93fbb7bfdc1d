import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuthUser } from '../auth/auth-user';
import { invalidData } from '../common/errors';
import { DevicesService } from '../devices/devices.service';
import { TargetCountsService } from '../devices/target-counts.service';
import { DeviceLabelChange, MAX_DEVICE_LABELS } from '../devices/devices.types';
import { LabelDevicesDto } from './dto/profile.dto';
import { profileConflict } from './profile-conflicts';
import { ProfileDevicesRepository } from './profile-devices.repository';
import { ProfilePlanner } from './profile-planner';
import { ProfilesRepository } from './profiles.repository';
import { WinProfile } from './profiles.types';
import { firstConflictOnDevices } from './targeting';

/** Devices read and written per round trip in a bulk label change. */
export const LABEL_CHUNK = 1000;

export interface LabelDevicesResult {
  label: string;
  added: number;
  removed: number;
  unchanged: number;
  notFound: number;
  plans: number;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Label changes as profiles see them: refused when they would make two profiles collide on a
 * device (409 4091), then re-planned for the changed devices only and only for the profiles
 * whose targets name a changed label. Registered with the devices module, which owns the PATCH.
 */
@Injectable()
export class ProfileLabelsService implements OnModuleInit {
  constructor(
    private readonly devices: DevicesService,
    private readonly profiles: ProfilesRepository,
    private readonly targetDevices: ProfileDevicesRepository,
    private readonly planner: ProfilePlanner,
    private readonly targetCounts: TargetCountsService,
  ) {}

  onModuleInit(): void {
    this.devices.useLabelPolicy({
      check: (c) => this.check(c),
      applied: async (c) => {
        await this.applied(c);
      },
    });
  }

  /**
   * Only profiles naming a changed label can start or stop reaching these devices; they are
   * checked, on these devices with their new labels, against the profiles sharing a path with
   * them. Cost: (changed devices) × (conflicting pairs), both bounded.
   */
  async check(change: DeviceLabelChange): Promise<void> {
    const affected = await this.profiles.targetingLabels(
      change.winEnterpriseId,
      change.changedLabels,
    );
    if (!affected.length) return;
    const paths = [...new Set(affected.flatMap((p) => p.settings.map((s) => s.path)))];
    const byId = new Map<string, WinProfile>(affected.map((p) => [p.id, p]));
    for (const p of await this.profiles.settingAnyPath(change.winEnterpriseId, paths))
      byId.set(p.id, p);
    const conflict = firstConflictOnDevices(
      [...byId.values()],
      change.devices,
      new Set(affected.map((p) => p.id)),
    );
    if (conflict) throw profileConflict(conflict);
  }

  /** Stores a device plan per affected profile; answers how many. */
  async applied(change: DeviceLabelChange): Promise<number> {
    const affected = await this.profiles.targetingLabels(
      change.winEnterpriseId,
      change.changedLabels,
    );
    const ids = change.devices.map((d) => d.id);
    for (const p of affected) await this.planner.planDevices(p, ids);
    return affected.length;
  }

  /** `POST …/labels/:label/devices`: bad input changes nothing (validated before any write). */
  async bulk(
    user: AuthUser,
    orgIdOrSlug: string,
    label: string,
    dto: LabelDevicesDto,
  ): Promise<LabelDevicesResult> {
    const enterprise = await this.devices.getEnterprise(user, orgIdOrSlug);
    const add = [...new Set((dto.add ?? []).map((id) => id.toLowerCase()))];
    const remove = [...new Set((dto.remove ?? []).map((id) => id.toLowerCase()))];
    if (!add.length && !remove.length)
      throw invalidData([{ field: 'add', message: 'add or remove must list at least one device' }]);
    const adding = new Set(add);
    const twice = remove.findIndex((id) => adding.has(id));
    if (twice >= 0)
      throw invalidData([{ field: `remove.${twice}`, message: 'is also listed in add' }]);

    const labels = new Map<string, string[]>();
    for (const chunk of chunks([...add, ...remove], LABEL_CHUNK))
      for (const d of await this.targetDevices.labelsOf(enterprise.id, chunk))
        labels.set(d.id, d.labels);

    const changed: { id: string; labels: string[] }[] = [];
    const result: LabelDevicesResult = {
      label,
      added: 0,
      removed: 0,
      unchanged: 0,
      notFound: 0,
      plans: 0,
    };
    const toAdd: string[] = [];
    const toRemove: string[] = [];
    add.forEach((id, i) => {
      const current = labels.get(id);
      if (!current) return void result.notFound++;
      if (current.includes(label)) return void result.unchanged++;
      if (current.length >= MAX_DEVICE_LABELS)
        throw invalidData([
          { field: `add.${i}`, message: `the device already has ${MAX_DEVICE_LABELS} labels` },
        ]);
      toAdd.push(id);
      changed.push({ id, labels: [...current, label] });
    });
    for (const id of remove) {
      const current = labels.get(id);
      if (!current) result.notFound++;
      else if (!current.includes(label)) result.unchanged++;
      else {
        toRemove.push(id);
        changed.push({ id, labels: current.filter((l) => l !== label) });
      }
    }
    if (!changed.length) return result;
    const change: DeviceLabelChange = {
      organizationId: enterprise.organizationId,
      winEnterpriseId: enterprise.id,
      devices: changed,
      changedLabels: [label],
    };
    await this.check(change);
    // Each write's modifiedCount is what it changed (a racing PATCH may have done some): the
    // label's count moves by that much, right after the write.
    for (const chunk of chunks(toAdd, LABEL_CHUNK)) {
      const n = await this.targetDevices.addLabel(enterprise.id, chunk, label);
      await this.targetCounts.labelChanged(enterprise.id, label, n);
      result.added += n;
    }
    for (const chunk of chunks(toRemove, LABEL_CHUNK)) {
      const n = await this.targetDevices.removeLabel(enterprise.id, chunk, label);
      await this.targetCounts.labelChanged(enterprise.id, label, -n);
      result.removed += n;
    }
    result.unchanged += toAdd.length + toRemove.length - result.added - result.removed;
    result.plans = await this.applied(change);
    return result;
  }
}
