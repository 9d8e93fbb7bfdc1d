import { Injectable } from '@nestjs/common';
import { AuthUser } from '../../auth/auth-user';
import { invalidData } from '../../common/errors';
import { DevicesService } from '../../devices/devices.service';
import type { WinDevice } from '../../devices/devices.types';
import type { WakeRequest } from '../../push/push.service';
import { commandConfigProblems } from '../command-rules';
import { BatchView, CommandsService } from '../commands.service';
import { compileDeviceAction, DeviceAction, parseDeviceAction } from './device-actions';
import type { DeviceActionDto } from './device-action.dto';

export interface ActionBatchView extends BatchView {
  action: NonNullable<BatchView['action']>;
}

/** `wake` queues nothing: the answer says what became of the push request. */
export interface WakeView {
  action: { name: 'wake'; params: Record<string, never> };
  push: WakeRequest;
}

/**
 * POST …/actions: an action compiled into commands, queued as one batch like any other; `wake`
 * queues nothing and asks WNS to wake the device now.
 */
@Injectable()
export class DeviceActionsService {
  constructor(
    private readonly commands: CommandsService,
    private readonly devices: DevicesService,
  ) {}

  async run(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    dto: DeviceActionDto,
    idempotencyKey?: string,
  ): Promise<ActionBatchView | WakeView> {
    const parsed = parseDeviceAction(dto);
    if ('problems' in parsed) throw invalidData(parsed.problems);
    if (parsed.ok.action === 'wake') {
      const { push } = await this.devices.wake(user, orgIdOrSlug, winDeviceId);
      return { action: { name: 'wake', params: {} }, push };
    }
    const compiled = compileDeviceAction(parsed.ok);
    // The compilers build from checked parts; the command rules hold them to the same standard
    // as POST …/commands (a URI XML cannot carry, malformed job XML).
    const problems = compiled.configs.flatMap((c, i) => commandConfigProblems(c, `commands.${i}`));
    if (problems.length) throw invalidData(problems);
    const view = await this.commands.enqueueConfigs(
      user,
      orgIdOrSlug,
      winDeviceId,
      { ...compiled, check: (device) => confirmTarget(parsed.ok, device) },
      idempotencyKey,
    );
    return { ...view, action: view.action ?? compiled.action };
  }
}

/** A wipe names its device twice: in the URL and in `confirm` (its Windows device id). */
function confirmTarget(action: DeviceAction, device: WinDevice): void {
  if (action.action !== 'wipe') return;
  if (action.confirm === device.deviceId) return;
  throw invalidData([
    {
      field: 'confirm',
      message: "confirm must be the device's Windows device id (./DevInfo/DevId)",
    },
  ]);
}
