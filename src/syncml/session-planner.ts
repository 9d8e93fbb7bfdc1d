import type {
  DeviceAsyncResult,
  DeviceReports,
  DeviceResultsReport,
} from '../commands/command-delivery.service';
import type { WinCommand } from '../commands/commands.types';
import { dmClientPath } from '../common/device-protocol';
import type { PushPatch } from '../devices/device-checkin.types';
import type { DeviceInventory, DevicePushInfo } from '../devices/devices.types';
import {
  AlertCode,
  buildSyncml,
  envelopeBytes,
  measureCommand,
  type SyncmlCommand,
  type SyncmlHeaderInput,
  type SyncmlMessage,
} from './codec';
import { toSyncmlCommand } from './command-encoding';
import { renderDelivered, type LargeDelivery } from './delivery-units';
import {
  DeviceAlert,
  DeviceMessageDigest,
  digestDeviceMessage,
  keepAliveGet,
  PUSH_CHANNEL_PREFIX,
  UNENROLL_PREFIX,
} from './device-message';
import {
  hasUnanswered,
  mergeInventory,
  noteAnswers,
  noteHeader,
  placeMessage,
  startSession,
  syncHdrStatus,
  type SyncmlSessionState,
} from './session-state';

/*
 * The management session's decisions (management-session.md §3, §6), pure: no I/O, no clock, no
 * Nest. The shell (syncml-session.service.ts) loads the device, asks here what a message means
 * and which queued commands go, performs the effects and saves what comes back.
 */

export interface PlannerConfig {
  /** Our SyncHdr Source when the device's Target is empty. */
  serverUrl: string;
  defaultMaxMsgSize: number;
  maxCommandsPerMessage: number;
  lastSeenIntervalMs: number;
  /** Our DMClient provider (the Push and Unenroll nodes live under it). */
  providerId?: string;
  /** With WNS configured: read the device's channel when unknown or older than `refreshMs`. */
  pushChannel?: { refreshMs: number };
}

/** What the planner needs to know of the device the certificate identified. */
export interface DeviceFacts {
  /** The Windows device id (certificate CN, SyncHdr Source). */
  deviceId: string;
  active: boolean;
  inventory?: DeviceInventory;
  lastSeenAt?: Date;
  /** An administrator unenrolled it: every session is told to unenroll (enrollment.md §10). */
  unenrolling?: boolean;
  push?: DevicePushInfo;
}

export interface MessageInput {
  msg: SyncmlMessage;
  /** SHA-256 of the request body. */
  requestHash: string;
  device: DeviceFacts;
  session: SyncmlSessionState | null;
  /** The previous lock holder never released the lock (crashed or outlived it). */
  staleLock: boolean;
  now: Date;
}

/** What the shell performs, in order, before the answer. */
export type Effect =
  | { kind: 'record-alerts'; alerts: DeviceAlert[] }
  | { kind: 'record-statuses'; reports: DeviceReports }
  | { kind: 'attach-late-results'; results: DeviceResultsReport[] }
  /** Alerts naming a node: the outcome of an Exec answered 202 (or 101), §3.6. */
  | { kind: 'async-results'; results: DeviceAsyncResult[] }
  /** Commands held by 101/202 past their time expire; the session keeps those still open. */
  | { kind: 'expire-interim' }
  /** Awaiting commands back to the queue: the device's, or with `sessionRef` that session's. */
  | { kind: 'requeue'; sessionRef?: string }
  | { kind: 'unenroll' }
  /** The PC acknowledged our Unenroll Exec. */
  | { kind: 'unenroll-confirmed' };

export interface Processing {
  kind: 'process';
  /** The session after this message: the planner's own copy, completed by the steps below. */
  session: SyncmlSessionState;
  digest: DeviceMessageDigest;
  effects: Effect[];
  header: SyncmlHeaderInput;
  /** The answer's Statuses: the SyncHdr's, then one per device command. */
  statuses: SyncmlCommand[];
  /** The server's own commands for this answer (channel Get, Unenroll Exec), before the queue's. */
  extra: SyncmlCommand[];
  /**
   * `ask-next`: the device's package continues (OMA-P §6.2), ask for its next message;
   * `deliver`: queued commands may go; `statuses`: nothing but the Statuses.
   */
  then: 'ask-next' | 'deliver' | 'statuses';
}

export type MessagePlan =
  | { kind: 'refuse'; status: 403; body: string; log: string }
  /** Replay or late message: answered without touching any state. */
  | {
      kind: 'answer';
      response: string;
      log: string;
      /** A session-start answer replayed: its commands, taken before it goes (decisions.md §40). */
      retake?: { sessionRef: string; cmdIds: string[] };
    }
  | Processing;

export function planMessage(input: MessageInput, config: PlannerConfig): MessagePlan {
  const { msg, device, now } = input;
  const prev = input.session;
  if (msg.header.source !== device.deviceId) {
    return {
      kind: 'refuse',
      status: 403,
      body: 'SyncHdr Source does not match the client certificate',
      log: `SyncHdr Source ${msg.header.source} is not device ${device.deviceId} (its certificate)`,
    };
  }
  const digest = digestDeviceMessage(msg, 2, { providerId: config.providerId });
  // §6 Identity: ./DevInfo/DevId, when sent, names the same device.
  if (digest.inventory.devId !== undefined && digest.inventory.devId !== device.deviceId) {
    return {
      kind: 'refuse',
      status: 403,
      body: './DevInfo/DevId does not match the client certificate',
      log: `DevInfo/DevId ${digest.inventory.devId} is not device ${device.deviceId}`,
    };
  }
  const place = placeMessage(prev, msg.header, input.requestHash, digest.sessionStart);
  const ref = `${msg.header.sessionId}/${msg.header.msgId} from ${device.deviceId}`;
  if (place === 'replay') {
    const replayed = {
      kind: 'answer',
      response: prev!.lastResponse,
      log: `Replayed message ${ref}`,
    } as const;
    const cmdIds = Object.keys(prev!.awaiting ?? {});
    // Only a session's first answer may have been saved before its commands were taken.
    if (prev!.serverMsgId !== 1 || !cmdIds.length) return replayed;
    return { ...replayed, retake: { sessionRef: prev!.sessionRef, cmdIds } };
  }
  if (place === 'late') {
    // §6 "Order and gaps": acknowledge the header, apply nothing.
    const header = headerOf(msg, String(prev!.serverMsgId), config);
    const response = buildSyncml({
      header,
      commands: [syncHdrStatus(msg.header.msgId)],
      final: true,
    });
    return { kind: 'answer', response, log: `Late message ${ref}` };
  }

  const session: SyncmlSessionState =
    place === 'new-session'
      ? startSession(prev, msg.header, input.requestHash, now)
      : {
          ...prev!,
          awaiting: { ...prev!.awaiting },
          lastMsgId: msg.header.msgId,
          lastRequestHash: input.requestHash,
        };
  noteHeader(session, msg.header, digest);
  // Statuses first (§6: a message that ends a session may still carry them), then what the last
  // session left unanswered goes back to the queue.
  const effects: Effect[] = [];
  if (digest.alerts.length) effects.push({ kind: 'record-alerts', alerts: digest.alerts });
  const answered = new Set(digest.reports.map((r) => r.cmdRef));
  if (digest.reports.length) {
    effects.push({
      kind: 'record-statuses',
      reports: {
        statuses: digest.reports,
        results: digest.results.filter((r) => answered.has(r.cmdRef)),
        receivedAt: now,
      },
    });
    noteAnswers(session, digest.reports);
  }
  const late = digest.results.filter((r) => !answered.has(r.cmdRef));
  if (late.length) effects.push({ kind: 'attach-late-results', results: late });
  // §3.6: Windows reports asynchronous CSP outcomes as 1226 (Learn) or 1224 (the EDAM example),
  // naming the node in Source; which command it ends is decided against the store.
  const outcomes = digest.alerts.flatMap((a): DeviceAsyncResult[] =>
    (a.alertCode === AlertCode.GenericAlert || a.alertCode === AlertCode.ClientEvent) &&
    a.source?.startsWith('./')
      ? [{ source: a.source, type: a.type, format: a.format, data: a.data }]
      : [],
  );
  if (outcomes.length) effects.push({ kind: 'async-results', results: outcomes });
  if (place === 'new-session' && Object.keys(prev?.interim ?? {}).length) {
    effects.push({ kind: 'expire-interim' });
  }
  if (input.staleLock || (place === 'new-session' && hasUnanswered(prev))) {
    effects.push({ kind: 'requeue' });
    forgetSent(session);
  }
  // The status first, then the queue: nothing can be queued for it in between.
  if (digest.unenroll) effects.push({ kind: 'unenroll' });
  if (digest.abort) {
    effects.push({ kind: 'requeue', sessionRef: session.sessionRef });
    forgetSent(session);
  }
  if (digest.unenrollConfirmed && device.unenrolling) effects.push({ kind: 'unenroll-confirmed' });

  session.serverMsgId += 1;
  const header = headerOf(msg, String(session.serverMsgId), config);
  const statuses: SyncmlCommand[] = [syncHdrStatus(msg.header.msgId), ...digest.statuses];
  const then =
    !msg.final && !digest.nextMessage
      ? 'ask-next'
      : !digest.abort && !digest.unenroll && device.active
        ? 'deliver'
        : 'statuses';
  // Package 1 may span messages (ask-next): they go with the first answer that is not a request
  // for more.
  const due = then !== 'ask-next' && session.serverCommandsSent === false;
  if (due) session.serverCommandsSent = true;
  const extra =
    !due || digest.unenroll || digest.abort
      ? []
      : serverCommands(device, session.serverMsgId, now, config);
  return { kind: 'process', session, digest, effects, header, statuses, extra, then };
}

/**
 * Once per session, in the first answer after the device's first package: the Unenroll Exec for a device an
 * administrator unenrolled (it answers Status 200, or a 1226 alert in a last session), or else
 * a Get of its WNS channel when push is on and the channel is unknown or due for a refresh
 * (management-session.md §7: the URI changes about every 15 days).
 */
function serverCommands(
  device: DeviceFacts,
  serverMsgId: number,
  now: Date,
  config: PlannerConfig,
): SyncmlCommand[] {
  const provider = config.providerId;
  if (!provider) return [];
  if (device.unenrolling) {
    return [
      {
        kind: 'Exec',
        cmdId: `${UNENROLL_PREFIX}${serverMsgId}`,
        items: [
          {
            target: dmClientPath.unenroll(provider),
            meta: { format: 'chr', type: 'text/plain' },
            data: provider,
          },
        ],
      },
    ];
  }
  if (!config.pushChannel || !device.active) return [];
  const readAt = device.push?.readAt ? new Date(device.push.readAt).getTime() : undefined;
  // No channel (never read, or WNS said it is gone) is due at once.
  const fresh =
    !!device.push?.channelUri &&
    readAt !== undefined &&
    now.getTime() - readAt < config.pushChannel.refreshMs;
  if (fresh) return [];
  return [
    {
      kind: 'Get',
      cmdId: `${PUSH_CHANNEL_PREFIX}${serverMsgId}`,
      items: [
        { target: dmClientPath.pushChannelUri(provider) },
        { target: dmClientPath.pushStatus(provider) },
      ],
    },
  ];
}

/** After a requeue nothing sent is awaited, and the queue is no longer known to be empty. */
function forgetSent(session: SyncmlSessionState): void {
  session.awaiting = {};
  session.drainedSeq = -1;
  // The requeued command's redelivery starts its value over (OMA-DM 1.2 §7).
  delete session.chunk;
}

function headerOf(msg: SyncmlMessage, msgId: string, config: PlannerConfig): SyncmlHeaderInput {
  return {
    sessionId: msg.header.sessionId,
    msgId,
    target: msg.header.source,
    source: msg.header.target || config.serverUrl,
  };
}

// ---- Delivery: which queued commands go in this answer (§3.8) ----

export interface DeliveryBudget {
  /** The queue was found empty at this marker: no query (an idle check-in's saved round trip). */
  skip: boolean;
  /** §3.11: ./User/… commands only while the enrolled user is logged on. */
  userScope: boolean;
  /** At most this many candidates, and commands per message. */
  maxCommands: number;
  /** The device's MaxMsgSize (MS-MDM 2.2.5.3), or our default when it sent none. */
  limit: number;
  /** The answer's envelope (SyncHdr, SyncBody, Final). */
  envelope: number;
  /** The envelope plus the answer's Statuses. */
  used: number;
}

/** `queueMark`: the device's queue marker, null while a command write is in flight. */
export function deliveryBudget(
  plan: Processing,
  queueMark: number | null,
  config: PlannerConfig,
): DeliveryBudget {
  const { session } = plan;
  const userScope = inUserScope(session);
  const skip = queueKnownEmpty(session, queueMark);
  const envelope = envelopeBytes(plan.header, true);
  return {
    skip,
    userScope,
    maxCommands: config.maxCommandsPerMessage,
    limit: session.maxMsgSize ?? config.defaultMaxMsgSize,
    envelope,
    used: envelope + [...plan.statuses, ...plan.extra].reduce((n, s) => n + measureCommand(s), 0),
  };
}

/** §3.11: Windows that never reports LoginStatus gets user-scope commands. */
function inUserScope(session: SyncmlSessionState): boolean {
  return session.loginStatus === undefined || session.loginStatus === 'user';
}

/** The queue was found empty at this marker, for this user scope: no query needed. */
export function queueKnownEmpty(session: SyncmlSessionState, queueMark: number | null): boolean {
  return (
    queueMark !== null &&
    session.drainedSeq === queueMark &&
    (session.drainedUserScope !== false || !inUserScope(session))
  );
}

export interface Choice {
  /** FIFO prefix of the candidates that fits. */
  take: WinCommand[];
  /** How many candidates were weighed (the taken ones, plus the one that did not fit). */
  considered: number;
  /** The first candidate that did not fit, with its size. */
  blocked?: { command: WinCommand; size: number };
}

/** FIFO within MaxMsgSize and the cap: a command that does not fit stops the message. */
export function chooseCommands(budget: DeliveryBudget, candidates: WinCommand[]): Choice {
  let bytes = budget.used;
  const take: WinCommand[] = [];
  for (const command of candidates.slice(0, budget.maxCommands)) {
    const size = measureCommand(toSyncmlCommand(command));
    if (bytes + size > budget.limit) {
      return { take, considered: take.length + 1, blocked: { command, size } };
    }
    bytes += size;
    take.push(command);
  }
  return { take, considered: take.length };
}

export type DeliveryNext =
  /** Answer now; `more`: commands wait that need a message of their own (keep-alive Get). */
  | { kind: 'answer'; more: boolean }
  /** No message can carry `command`: it fails; with `retry`, choose again. */
  | { kind: 'fail'; command: WinCommand; why: string; retry: boolean };

/** Once the chosen commands were taken (`sent` of them still Pending then): what comes next. */
export function afterTake(
  plan: Processing,
  budget: DeliveryBudget,
  choice: Choice,
  sent: number,
  queueMark: number | null,
  attempt: number,
): DeliveryNext {
  const { session } = plan;
  // Everything waiting went (or nothing was waiting): idle check-ins may skip the query until the
  // marker moves.
  const drained = choice.considered < budget.maxCommands && sent === choice.considered;
  session.drainedSeq = drained && queueMark !== null ? queueMark : -1;
  session.drainedUserScope = budget.userScope;
  const head = choice.blocked;
  if (sent || !head) return { kind: 'answer', more: false };
  // Nothing fitted beside this message's Statuses, but the head fits a message of its own.
  const alone = budget.envelope + measureCommand(syncHdrStatus('1')) + head.size;
  if (alone <= budget.limit) return { kind: 'answer', more: true };
  // A command that no message can carry would block the queue forever: it fails, and the next
  // ones get their turn in this message.
  const why = `${alone} bytes > MaxMsgSize ${budget.limit}`;
  return { kind: 'fail', command: head.command, why, retry: attempt < 2 };
}

// ---- The answer ----

export interface Answer {
  response: string;
  session: SyncmlSessionState;
  /** The inventory after this message, when it changed. */
  inventory?: DeviceInventory;
  lastSeenAt?: Date;
  push?: PushPatch;
}

export function composeAnswer(
  plan: Processing,
  device: DeviceFacts,
  sent: WinCommand[],
  more: boolean,
  now: Date,
  config: PlannerConfig,
  large?: LargeDelivery,
): Answer {
  const { session } = plan;
  let commands = plan.statuses;
  let final = true;
  if (plan.then === 'ask-next') {
    const next: SyncmlCommand = {
      kind: 'Alert',
      cmdId: String(commands.length + 1),
      data: AlertCode.NextMessage,
      items: [],
    };
    commands = [...commands, next];
    final = false;
  } else {
    commands = [...commands, ...plan.extra, ...renderDelivered(sent, large)];
    for (const c of sent) (session.awaiting ??= {})[c.cmdId] = c.config.action;
    // OMA-DM 1.2 §7: a message carrying a chunk that is not the last has no Final; the device
    // answers 213 and asks for the next message (Alert 1222).
    if (large?.open) final = false;
    // A message with only Statuses would end the session (§3.4; Windows also ends it without
    // Final), so a tiny Get keeps it going: the next message carries only the SyncHdr Status.
    // The last chunk of a large object is a command already.
    else if (more && !large?.continued) commands = [...commands, keepAliveGet(session.serverMsgId)];
  }
  const response = buildSyncml({ header: plan.header, commands, final });
  session.lastResponse = response;
  const inventory = mergeInventory(device.inventory, plan.digest);
  const seenDue =
    !device.lastSeenAt ||
    now.getTime() - new Date(device.lastSeenAt).getTime() >= config.lastSeenIntervalMs;
  return {
    response,
    session,
    inventory,
    lastSeenAt: seenDue || inventory ? now : undefined,
    push: pushPatch(plan.digest, now),
  };
}

/**
 * Only what the device reported, field by field: the channel read at lock time is not written
 * back over a concurrent forgetChannel. A channel Get answered with an error and no ChannelURI
 * means the device has none (any longer).
 */
function pushPatch(d: DeviceMessageDigest, now: Date): PushPatch | undefined {
  const reported = d.push.channelUri !== undefined || d.push.status !== undefined;
  if (!reported && !d.pushChecked) return undefined;
  const dropped = d.pushGetFailed && d.push.channelUri === undefined;
  return { ...d.push, ...(dropped && { channelUri: null }), readAt: now };
}

// ---- Without the lock (decisions.md: the idle fast path) ----

export type LockFree =
  /** Nothing to write: the answer is the same however often the device sends this message. */
  | { kind: 'idle'; response: string }
  /** Nothing to deliver, something to save: saved on condition that nothing came between. */
  | { kind: 'optimistic' }
  /**
   * Something may be queued: the answer is saved conditionally before its commands are taken,
   * so a crash in between leaves them Pending, never Awaiting from a session nobody saved.
   */
  | { kind: 'deliver' };

/**
 * Whether a new session's first message, planned from a device read without its lock, may be
 * answered without taking the lock. Only a message with no effect qualifies. It is idle when the
 * queue needs no read (known empty at `queueMark`, or nothing is delivered), the server sends no
 * command of its own and nothing of the device is due to be written: inventory, push channel,
 * lastSeenAt (precise to `lastSeenIntervalMs`). An idle exchange keeps no replay record: its
 * session-ending answer (Statuses only, §3.4) is what the same message gets again. Otherwise the
 * answer's state is saved conditionally: before the take when the queue is read (deliver), as
 * the only write otherwise (optimistic). Null: take the lock.
 */
export function lockFree(
  plan: Processing,
  queueMark: number | null,
  device: DeviceFacts,
  now: Date,
  config: PlannerConfig,
): LockFree | null {
  // serverMsgId 1: the first answer of a new session (startSession), so no answer of this
  // session is stored whose MsgID a later one would repeat.
  if (plan.effects.length || plan.then === 'ask-next' || plan.session.serverMsgId !== 1) {
    return null;
  }
  if (plan.then !== 'statuses' && !queueKnownEmpty(plan.session, queueMark)) {
    return { kind: 'deliver' };
  }
  const answer = composeAnswer(plan, device, [], false, now, config);
  if (plan.extra.length || answer.inventory || answer.lastSeenAt || answer.push) {
    return { kind: 'optimistic' };
  }
  return { kind: 'idle', response: answer.response };
}
