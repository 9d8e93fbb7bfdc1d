import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuthUser } from '../auth/auth-user';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError, ErrorCode, ErrorDetail, assertFound, invalidData } from '../common/errors';
import { Page, PageRequest } from '../common/pagination/pagination';
import { DeviceCheckinService } from '../devices/device-checkin.service';
import { DevicesService } from '../devices/devices.service';
import type { WinDevice } from '../devices/devices.types';
import type { PollScheduleChanged } from '../events/event-map';
import { PushService } from '../push/push.service';
import { atomicBatchProblems, commandConfigProblems } from './command-rules';
import { CommandStatus, isFinalStatus } from './command-status';
import {
  BatchAction,
  CommandBatch,
  CommandConfig,
  CommandOrigin,
  StatusCount,
  WinCommand,
} from './commands.types';
import { CommandsRepository } from './commands.repository';
import { CreateCommandsDto } from './dto/create-commands.dto';

export interface BatchView extends CommandBatch {
  commands: WinCommand[];
  summary: StatusCount[];
}

export interface CancelOutcome {
  cmdId: string;
  canceled: boolean;
  status: string;
  reason?: 'already-canceled' | 'already-sent' | 'finished' | 'not-found';
}

/** A batch's commands as queued: validated, and the action they were compiled from, if any. */
export interface NewCommands {
  name: string | null;
  configs: CommandConfig[];
  action?: BatchAction;
  /**
   * Deliver the commands inside one SyncML Atomic (MS-MDM 2.2.7.3): all succeed or all are rolled
   * back. Refused (5091) when they could not travel in one message (atomicBatchProblems).
   */
  atomic?: boolean;
  /** Refuses (throws a DomainError) for this device before anything is written. */
  check?: (device: WinDevice) => void;
}

/** The device an internal enqueue targets: the fields its batch records, and push needs. */
export type InternalTarget = Pick<WinDevice, 'id' | 'organizationId' | 'winEnterpriseId'> &
  Partial<Pick<WinDevice, 'mdmUserId' | 'push'>>;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@Injectable()
export class CommandsService {
  private readonly logger = new Logger(CommandsService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly devices: DevicesService,
    private readonly checkins: DeviceCheckinService,
    private readonly repo: CommandsRepository,
    private readonly push: PushService,
  ) {}

  async enqueue(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    dto: CreateCommandsDto,
    idempotencyKey?: string,
  ): Promise<BatchView> {
    const configs = this.validate(dto);
    return this.enqueueConfigs(
      user,
      orgIdOrSlug,
      winDeviceId,
      { name: dto.name ?? null, configs, ...(dto.atomic && { atomic: true }) },
      idempotencyKey,
    );
  }

  /**
   * Queues already validated commands as one batch (POST …/commands, and device actions, which
   * compile into commands): cmdIds, Idempotency-Key and the queue marker bracket in one place.
   * `check` sees the resolved device before anything is written.
   */
  async enqueueConfigs(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    input: NewCommands,
    idempotencyKey?: string,
  ): Promise<BatchView> {
    const { name, configs, action } = input;
    const atomic = input.atomic === true;
    if (atomic) {
      const problems = atomicBatchProblems(configs, {
        maxCommands: this.config.syncml.maxCommandsPerMessage,
        maxMsgSize: this.config.syncml.defaultMaxMsgSize,
      });
      if (problems.length) throw invalidData(problems);
    }
    // The device lookup opens its queue marker bracket (decisions §16): a check-in never trusts
    // an empty queue read while this batch is being written.
    const { organization, device, created } = await this.devices.appendToDeviceQueue(
      user,
      orgIdOrSlug,
      winDeviceId,
      async ({ organization, device }) => {
        input.check?.(device);
        const batchId = await this.batchIdFor(organization.id, device.id, input, idempotencyKey);
        const created = await this.repo.createBatch({
          id: batchId,
          organizationId: organization.id,
          winEnterpriseId: device.winEnterpriseId,
          winDeviceId: device.id,
          mdmUserId: device.mdmUserId ?? null,
          name,
          createdBy: user.subject,
          configs,
          action,
          ...(atomic && { atomic }),
        });
        return { organization, device, created };
      },
    );
    // A fresh batch is answered from what was just written (no read-back: on stores without
    // index pushdown, such as FerretDB's SQLite backend, a read-back scans every command). A
    // batch that already existed (Idempotency-Key retry, racing duplicate) is read back.
    // Fire-and-forget: WNS never delays or fails the enqueue (push.service.ts).
    this.push.wake(device);
    if (!created.fresh) return this.view(organization.id, created.batch);
    const view: BatchView = {
      ...created.batch,
      commands: created.commands,
      summary: summarize(created.commands),
    };
    this.logger.log(
      JSON.stringify({
        msg: 'command batch queued',
        batchId: created.batch.id,
        winDeviceId: device.id,
        commands: configs.length,
      }),
    );
    return view;
  }

  /** A fresh batch id, or the one an earlier request with the same Idempotency-Key claimed. */
  private async batchIdFor(
    orgId: string,
    winDeviceId: string,
    input: NewCommands,
    idempotencyKey?: string,
  ): Promise<string> {
    const batchId = this.repo.newBatchId();
    if (idempotencyKey === undefined) return batchId;
    if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw invalidData([
        { field: 'Idempotency-Key', message: 'must be 1-255 visible ASCII characters' },
      ]);
    }
    const { name, configs, action } = input;
    const atomic = input.atomic === true;
    const hash = createHash('sha256')
      // A plain batch hashes as before; an action's or an atomic batch also by those.
      .update(
        JSON.stringify({ name, configs, ...(action && { action }), ...(atomic && { atomic }) }),
      )
      .digest('hex');
    const claim = await this.repo.claimIdempotencyKey(
      `${orgId}:${winDeviceId}:${idempotencyKey}`,
      hash,
      batchId,
    );
    if (claim.requestHash !== hash) {
      throw new DomainError(
        ErrorCode.Conflict,
        'Idempotency-Key was already used with a different request body',
        [{ field: 'Idempotency-Key', message: 'reuse a key only to retry the identical request' }],
      );
    }
    return claim.batchId;
  }

  /**
   * Queues commands on behalf of another module (a profile's delivery): no REST client, no
   * Idempotency-Key; `batchId` (a 24-hex id the caller derives from its own state) makes a
   * retry after a crash complete the same batch instead of queuing twice. The batch and its
   * commands carry `origin`, so they show in the device's command history like any other.
   */
  async enqueueInternal(
    device: InternalTarget,
    configs: CommandConfig[],
    opts: {
      origin: CommandOrigin;
      name: string;
      createdBy: string;
      batchId?: string;
      /** Push a wake-up (default); false: the commands ride the device's next normal session. */
      wake?: boolean;
      /** Deliver them inside one SyncML Atomic. */
      atomic?: boolean;
    },
  ): Promise<{ batch: CommandBatch; fresh: boolean }> {
    const id = opts.batchId ?? this.repo.newBatchId();
    const created = await this.checkins.appendToQueue(device.id, () =>
      this.repo.createBatch({
        id,
        organizationId: device.organizationId,
        winEnterpriseId: device.winEnterpriseId,
        winDeviceId: device.id,
        mdmUserId: device.mdmUserId ?? null,
        name: opts.name,
        createdBy: opts.createdBy,
        configs,
        origin: opts.origin,
        ...(opts.atomic && { atomic: true }),
      }),
    );
    if (created.fresh && opts.wake !== false) this.push.wake(device);
    return { batch: created.batch, fresh: created.fresh };
  }

  /** Cancels the device's Pending commands of `origin` queued at another revision than `keep`. */
  cancelSuperseded(
    winDeviceId: string,
    origin: { kind: string; id: string },
    keep: number,
    now = new Date(),
  ): Promise<number> {
    return this.repo.cancelSupersededPending(winDeviceId, origin, keep, now);
  }

  /** A batch's commands in position order (another module reading the outcome of its batch). */
  commandsOfBatch(orgId: string, batchId: string): Promise<WinCommand[]> {
    return this.repo.commandsOfBatch(orgId, batchId);
  }

  /**
   * The enterprise's new poll schedule, as one batch of DMClient Poll Replaces per managed device
   * (in pages, so a large fleet is never read at once), each device woken like any enqueue.
   */
  async queuePollSchedule(e: PollScheduleChanged): Promise<number> {
    const configs: CommandConfig[] = e.nodes.map((n) => ({
      path: n.path,
      action: 'Replace',
      value: n.value,
      format: n.format,
    }));
    let after: string | null = null;
    let queued = 0;
    for (;;) {
      const page = await this.devices.managedDevices(
        e.organizationId,
        e.winEnterpriseId,
        after,
        200,
      );
      for (const device of page) {
        await this.checkins.appendToQueue(device.id, () =>
          this.repo.createBatch({
            id: this.repo.newBatchId(),
            organizationId: e.organizationId,
            winEnterpriseId: e.winEnterpriseId,
            winDeviceId: device.id,
            mdmUserId: device.mdmUserId ?? null,
            name: 'poll schedule',
            createdBy: e.by,
            configs,
          }),
        );
        this.push.wake(device);
        queued++;
      }
      if (page.length < 200) break;
      after = page[page.length - 1].id;
    }
    this.logger.log(
      JSON.stringify({ msg: 'poll schedule queued', winEnterpriseId: e.winEnterpriseId, queued }),
    );
    return queued;
  }

  private validate(dto: CreateCommandsDto): CommandConfig[] {
    const max = this.config.commands.maxPerBatch;
    if (dto.commands.length > max) {
      throw invalidData([{ field: 'commands', message: `at most ${max} commands per request` }]);
    }
    const problems: ErrorDetail[] = [];
    const configs = dto.commands.map((c, i) => {
      problems.push(...commandConfigProblems(c.config, `commands.${i}.config`));
      const { path, action, value, format } = c.config;
      return value === undefined ? { path, action, format } : { path, action, value, format };
    });
    if (problems.length) throw invalidData(problems);
    return configs;
  }

  /** The batch with its commands, and their counts by status from the same read. */
  private async view(orgId: string, batch: CommandBatch): Promise<BatchView> {
    const commands = await this.repo.commandsOfBatch(orgId, batch.id);
    return { ...batch, commands, summary: summarize(commands) };
  }

  async getBatch(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    batchId: string,
  ): Promise<BatchView> {
    const { organization, device } = await this.devices.resolveDevice(
      user,
      orgIdOrSlug,
      winDeviceId,
    );
    const batch = assertFound(
      await this.repo.findBatch(organization.id, device.id, batchId),
      'Command batch',
    );
    return this.view(organization.id, batch);
  }

  async listBatches(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    page: PageRequest,
  ): Promise<Page<CommandBatch & { summary: StatusCount[] }>> {
    const { organization, device } = await this.devices.resolveDevice(
      user,
      orgIdOrSlug,
      winDeviceId,
    );
    const batches = await this.repo.listBatches(organization.id, device.id, page);
    const summaries = await this.repo.summaries(organization.id, batches.docs);
    return {
      ...batches,
      docs: batches.docs.map((b) => ({ ...b, summary: summaries.get(b.id) ?? [] })),
    };
  }

  async listActions(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    batchId: string,
    page: PageRequest,
    status?: string,
  ): Promise<Page<WinCommand>> {
    const { organization, device } = await this.devices.resolveDevice(
      user,
      orgIdOrSlug,
      winDeviceId,
    );
    assertFound(await this.repo.findBatch(organization.id, device.id, batchId), 'Command batch');
    const statuses =
      status === 'MalformedSyntax' || status === CommandStatus.CommandFormatError
        ? [CommandStatus.CommandFormatError, 'MalformedSyntax']
        : status
          ? [status]
          : undefined;
    return this.repo.listCommands(organization.id, batchId, page, statuses);
  }

  async cancel(
    user: AuthUser,
    orgIdOrSlug: string,
    winDeviceId: string,
    batchId: string,
    cmdIds?: string[],
  ): Promise<{ id: string; results: CancelOutcome[] }> {
    const { organization, device } = await this.devices.resolveDevice(
      user,
      orgIdOrSlug,
      winDeviceId,
    );
    assertFound(await this.repo.findBatch(organization.id, device.id, batchId), 'Command batch');
    const now = new Date();
    // One conditional update (Pending → Cancel, per document), then one read to explain the rest.
    const unique = cmdIds ? [...new Set(cmdIds)] : undefined;
    await this.repo.cancelPending(organization.id, batchId, now, unique);
    const current = unique
      ? await this.repo.findCommandsByCmdId(organization.id, batchId, unique)
      : await this.repo.commandsOfBatch(organization.id, batchId);
    const byId = new Map(current.map((c) => [c.cmdId, c]));
    const results = (unique ?? current.map((c) => c.cmdId)).map((cmdId): CancelOutcome => {
      const c = byId.get(cmdId);
      if (!c) return { cmdId, canceled: false, status: 'NotFound', reason: 'not-found' };
      if (c.status === CommandStatus.Cancel && c.canceledAt?.getTime() === now.getTime()) {
        return { cmdId, canceled: true, status: CommandStatus.Cancel };
      }
      const reason =
        c.status === CommandStatus.Cancel
          ? 'already-canceled'
          : isFinalStatus(c.status)
            ? 'finished'
            : 'already-sent';
      return { cmdId, canceled: false, status: c.status, reason };
    });
    return { id: batchId, results };
  }
}

/** Per status, how many of the commands are in it (the order `summaries` uses). */
function summarize(commands: WinCommand[]): StatusCount[] {
  const counts = new Map<string, number>();
  for (const c of commands) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts]
    .map(([status, count]) => ({ status, count }))
    .sort((a, b) => a.status.localeCompare(b.status));
}
