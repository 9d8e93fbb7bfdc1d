import type { DeviceResultsReport, DeviceStatusReport } from '../commands/command-delivery.service';
import { DMCLIENT_PUSH_NODE } from '../common/device-protocol';
import type { DeviceInventory, DevicePushInfo } from '../devices/devices.types';
import {
  AlertCode,
  AlertType,
  SYNCHDR_CMD,
  SYNCHDR_CMD_REF,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlMessage,
  type SyncmlStatusCommand,
} from './codec';

export interface DeviceAlert {
  alertCode: string;
  type?: string;
  format?: string;
  mark?: string;
  source?: string;
  data?: string;
}

/** What one device message says, reduced to what the session acts on (pure). */
export interface DeviceMessageDigest {
  /** Statuses the server answers with, in order, after its Status for the SyncHdr. */
  statuses: SyncmlStatusCommand[];
  reports: DeviceStatusReport[];
  results: DeviceResultsReport[];
  /** 1224 client events and 1226 generic alerts, to store. */
  alerts: DeviceAlert[];
  sessionStart: boolean;
  /** Alert 1222: the device asks for the next message of our package (OMA-P §6.2). */
  nextMessage: boolean;
  abort: boolean;
  unenroll: boolean;
  loginStatus?: string;
  inventory: Partial<DeviceInventory> & { details?: Record<string, string> };
  /** DMClient Push/ChannelURI and Push/Status of our provider, as the device reported them. */
  push: Pick<DevicePushInfo, 'channelUri' | 'status'>;
  /** The device answered our channel Get (found or not): the channel was checked. */
  pushChecked: boolean;
  /** That Get was answered with an error Status (e.g. 404: the device has no channel). */
  pushGetFailed: boolean;
  /** Status 200/202 for our DMClient Unenroll Exec. */
  unenrollConfirmed: boolean;
}

export interface DigestOptions {
  /** Our DMClient provider: only its Push nodes are ours to read. */
  providerId?: string;
}

const DEVINFO: Record<string, keyof DeviceInventory> = {
  './DevInfo/DevId': 'devId',
  './DevInfo/Man': 'manufacturer',
  './DevInfo/Mod': 'model',
  './DevInfo/DmV': 'dmVersion',
  './DevInfo/Lang': 'language',
};

/**
 * CmdIDs of the server's own keep-alive Gets: never a queued command (those are `<batch>-<n>`),
 * so their Status and Results are dropped here instead of being reported as unknown.
 */
export const KEEPALIVE_PREFIX = 'keepalive-';
/** CmdIDs of the server's Get of the device's WNS channel (management-session.md §7). */
export const PUSH_CHANNEL_PREFIX = 'pushchannel-';
/** CmdIDs of the server's DMClient Unenroll Exec (enrollment.md §10). */
export const UNENROLL_PREFIX = 'unenroll-';
const SERVER_PREFIXES = [KEEPALIVE_PREFIX, PUSH_CHANNEL_PREFIX, UNENROLL_PREFIX];
const isServerCommand = (cmdRef: string) => SERVER_PREFIXES.some((p) => cmdRef.startsWith(p));
/** Longest channel URI kept (WNS URIs are ~250 characters). */
export const MAX_CHANNEL_URI = 2048;

/** Bounds on what a device can make us store per message (inventory details, alerts). */
export const MAX_DETAILS = 200;
export const MAX_VALUE = 1024;
export const MAX_ALERTS = 100;

export function keepAliveGet(serverMsgId: number): SyncmlCommand {
  return {
    kind: 'Get',
    cmdId: `${KEEPALIVE_PREFIX}${serverMsgId}`,
    items: [{ target: './DevInfo/DevId' }],
  };
}

function noteInventory(
  d: DeviceMessageDigest,
  path: string | undefined,
  data: string | undefined,
): void {
  if (!path || data === undefined) return;
  const key = DEVINFO[path];
  if (key) (d.inventory as Record<string, string>)[key] = data;
  else if (path.startsWith('./DevDetail/') && path.length > 12 && path.length <= 256) {
    // Keys may not contain '.' or start with '$' (portable Mongo subset).
    const name = path.slice('./DevDetail/'.length).replace(/[.$]/g, '_');
    // Device-supplied keys and values are bounded: the inventory lives on the device document.
    if (
      Object.keys(d.inventory.details ?? {}).length >= MAX_DETAILS &&
      !(name in (d.inventory.details ?? {}))
    )
      return;
    d.inventory.details = { ...d.inventory.details, [name]: data.slice(0, MAX_VALUE) };
  }
}

function notePush(
  d: DeviceMessageDigest,
  o: DigestOptions,
  path: string | undefined,
  data: string | undefined,
): void {
  if (!o.providerId || !path || data === undefined) return;
  const m = DMCLIENT_PUSH_NODE.exec(path);
  if (!m || m[1] !== o.providerId) return;
  const value = data.trim();
  if (m[2] === 'ChannelURI') {
    if (value.length <= MAX_CHANNEL_URI) d.push.channelUri = value;
  } else d.push.status = value.slice(0, 32);
}

function statusFor(
  cmd: SyncmlCommand,
  msgRef: string,
  cmdId: string,
  code: string,
  cmdName?: string,
): SyncmlStatusCommand {
  return {
    kind: 'Status',
    cmdId,
    msgRef,
    cmdRef: cmd.cmdId,
    cmd: cmdName ?? cmd.kind,
    targetRef: [],
    sourceRef: [],
    data: code,
    items: [],
  };
}

/**
 * Walks the message in document order (MS-MDM 2.2.6.1: Statuses answer in that order), starting
 * the server's Status CmdIDs at `firstCmdId` (1 is the Status for the SyncHdr).
 */
export function digestDeviceMessage(
  msg: SyncmlMessage,
  firstCmdId = 2,
  options: DigestOptions = {},
): DeviceMessageDigest {
  const d: DeviceMessageDigest = {
    statuses: [],
    reports: [],
    results: [],
    alerts: [],
    sessionStart: false,
    nextMessage: false,
    abort: false,
    unenroll: false,
    inventory: {},
    push: {},
    pushChecked: false,
    pushGetFailed: false,
    unenrollConfirmed: false,
  };
  let next = firstCmdId;
  const msgRef = msg.header.msgId;
  const answer = (cmd: SyncmlCommand, code: string, name?: string) =>
    d.statuses.push(statusFor(cmd, msgRef, String(next++), code, name));

  for (const cmd of msg.commands) {
    switch (cmd.kind) {
      case 'Status':
        // CmdRef 0 answers our SyncHdr: nothing to record. A Status is never answered (OMA-P §6.1).
        if (cmd.cmdRef.startsWith(PUSH_CHANNEL_PREFIX)) {
          d.pushChecked = true;
          if (Number(cmd.data) >= 400) d.pushGetFailed = true;
        }
        if (
          cmd.cmdRef.startsWith(UNENROLL_PREFIX) &&
          (cmd.data === SyncmlStatus.Ok || cmd.data === '202')
        ) {
          d.unenrollConfirmed = true;
        }
        if (
          cmd.cmdRef !== SYNCHDR_CMD_REF &&
          cmd.cmd !== SYNCHDR_CMD &&
          !isServerCommand(cmd.cmdRef)
        ) {
          d.reports.push({ cmdRef: cmd.cmdRef, msgRef: cmd.msgRef, cmd: cmd.cmd, code: cmd.data });
        }
        break;
      case 'Results':
        // A Get on ./DevInfo or ./DevDetail also refreshes the inventory.
        for (const i of cmd.items) {
          noteInventory(d, i.source ?? i.target, i.data);
          notePush(d, options, i.source ?? i.target, i.data);
        }
        if (isServerCommand(cmd.cmdRef)) break;
        d.results.push({
          cmdRef: cmd.cmdRef,
          msgRef: cmd.msgRef,
          items: cmd.items.map((i) => ({
            path: i.source ?? i.target ?? '',
            format: i.meta?.format ?? cmd.meta?.format,
            type: i.meta?.type ?? cmd.meta?.type,
            value: i.data,
          })),
        });
        break;
      case 'Alert': {
        answer(cmd, SyncmlStatus.Ok);
        const code = cmd.data ?? '';
        if (code === AlertCode.ClientInitiatedMgmt || code === AlertCode.ServerInitiatedMgmt)
          d.sessionStart = true;
        if (code === AlertCode.SessionAbort) d.abort = true;
        if (code === AlertCode.NextMessage) d.nextMessage = true;
        if (code === AlertCode.ClientEvent || code === AlertCode.GenericAlert) {
          for (const item of cmd.items.length ? cmd.items : [{}]) {
            const i = item as (typeof cmd.items)[number];
            const type = i.meta?.type;
            if (
              code === AlertCode.ClientEvent &&
              type?.toLowerCase() === AlertType.LoginStatus.toLowerCase()
            ) {
              d.loginStatus = (i.data ?? '').trim().toLowerCase();
              continue;
            }
            if (type === AlertType.UserUnenrollment) d.unenroll = true;
            if (d.alerts.length >= MAX_ALERTS) continue;
            d.alerts.push({
              alertCode: code,
              type,
              format: i.meta?.format,
              mark: i.meta?.mark,
              source: i.source ?? i.target,
              data: i.data?.slice(0, 4 * MAX_VALUE),
            });
          }
        }
        break;
      }
      case 'Replace':
      case 'Add':
        // Package 1 carries DevInfo as a Replace (MS-MDM §4); DevDetail values may follow.
        answer(cmd, SyncmlStatus.Ok);
        for (const i of cmd.items) {
          noteInventory(d, i.source ?? i.target, i.data);
          notePush(d, options, i.source ?? i.target, i.data);
        }
        break;
      case 'Unsupported':
        // OMA-PS: an element that is not a command gets Status 400.
        answer(cmd, SyncmlStatus.BadRequest, cmd.element);
        break;
      default:
        // Get/Delete/Exec/Copy/Atomic/Sequence are server → device verbs in MS-MDM.
        answer(cmd, SyncmlStatus.CommandNotAllowed);
    }
  }
  return d;
}
