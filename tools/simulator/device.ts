import {
  AlertCode,
  buildSyncml,
  parseSyncml,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlMessage,
} from '../../src/syncml/codec';
import { checkServerMessage, SYNCML_CONTENT_TYPE, type SentCommand } from './checks';
import {
  abortAlert,
  deviceHeader,
  idCounter,
  msiInstallResultAlert,
  nextMessageAlert,
  package1Commands,
  syncHdrStatus,
} from './messages';
import { CommandResponder, type ResponderRules } from './responder';
import { SimulatorError } from './simulator-error';
import { DeviceTransport } from './transport';
import { DEFAULT_READ_ONLY_PATHS, DeviceTree, devInfoValues, windowsDefaultValues } from './tree';
import type {
  DevInfo,
  ExtraAlert,
  Exchange,
  SessionOptions,
  SessionResult,
  SimulatedDeviceOptions,
  TranscriptEntry,
} from './types';

/** A convention, not a spec (management-session.md §1.1). */
export { MANAGEMENT_PATH } from '../../src/common/device-protocol';
import { dmClientPath, MANAGEMENT_PATH } from '../../src/common/device-protocol';
/** Windows appends these to the provisioned URL (MS-MDM §2.1 note 1). */
export const DEFAULT_QUERY = 'mode=Maintenance&Platform=WoA';
export const DEFAULT_DEV_INFO: DevInfo = {
  man: 'Mullion',
  mod: 'Simulated PC',
  dmV: '1.3',
  lang: 'en-US',
};
/** A session that has not ended after this many device messages is a server bug. */
const MAX_MESSAGES = 500;

/** SyncHdr Target (the management URL) and the URL actually requested (with Windows' query). */
export function resolveServerUrl(
  serverUrl: string,
  query = DEFAULT_QUERY,
): { target: string; requestUrl: string } {
  const url = new URL(serverUrl);
  if (url.protocol !== 'https:') throw new TypeError(`server URL must be https, got ${serverUrl}`);
  if (url.pathname === '/' || url.pathname === '') url.pathname = MANAGEMENT_PATH;
  const target = `${url.origin}${url.pathname}`;
  if (!url.search && query) url.search = query;
  return { target, requestUrl: url.toString() };
}

const sentOf = (commands: readonly SyncmlCommand[]): SentCommand[] =>
  commands.map((c) => ({
    cmdId: c.cmdId,
    cmd: c.kind,
    label:
      c.kind === 'Alert'
        ? `Alert ${c.data ?? ''} (CmdID ${c.cmdId})`
        : `${c.kind} (CmdID ${c.cmdId})`,
  }));

const unanswered = ({ answeredStatus: _a, resultValue: _r, ...seen }: TranscriptEntry) => seen;

const isAbort = (m: SyncmlMessage): boolean =>
  m.commands.some((c) => c.kind === 'Alert' && c.data === AlertCode.SessionAbort);

/**
 * A Windows 10/11 DM client over HTTPS with its client certificate: opens sessions like Windows
 * (management-session.md §3.2), answers every server command (§3.4, §3.10) from its own management
 * tree, and records every exchange. Long-lived: the tree and the SessionID counter persist across
 * sessions, so an Add repeated in a later session gets 418 like on a real device.
 */
const UNENROLL_NODE = /^\.\/(?:Device\/)?Vendor\/MSFT\/DMClient\/Provider\/[^/]+\/Unenroll$/;

function pushValues(p: NonNullable<SimulatedDeviceOptions['push']>): Record<string, string> {
  return {
    [dmClientPath.pushChannelUri(p.providerId)]: p.channelUri,
    [dmClientPath.pushStatus(p.providerId)]: p.status ?? '0',
  };
}

/**
 * SessionIDs of every simulated device in this process, in sequence from a random start: a
 * fresh simulator for a device that another simulator already ran a session for must not reuse
 * that session's id, or its byte-identical opening is (rightly) answered as a replay.
 */
let sessionCounter = Math.floor(Math.random() * 200);

export class SimulatedDevice {
  readonly deviceId: string;
  /** The device's management tree (read it in tests to see what the server changed). */
  readonly tree: DeviceTree;
  /** The current (or last) session's exchanges, then any rawSend() since. */
  exchanges: Exchange[] = [];
  readonly target: string;
  readonly requestUrl: string;
  private readonly devInfo: DevInfo;
  private readonly rules: ResponderRules;
  private readonly responder: CommandResponder;
  private readonly transport: DeviceTransport;
  /**
   * Outcomes of Execs answered 202 (an MSI install), sent at the start of the next session as
   * Windows does once the job ends (management-session.md §3.6). Tests may hold or edit them.
   */
  readonly pendingAlerts: ExtraAlert[] = [];
  /**
   * The server's DMClient Unenroll Exec was carried out (enrollment.md §10): like Windows, the
   * device has left management and opens no further session.
   */
  unenrolled = false;

  constructor(private readonly opts: SimulatedDeviceOptions) {
    this.deviceId = opts.deviceId;
    ({ target: this.target, requestUrl: this.requestUrl } = resolveServerUrl(
      opts.serverUrl,
      opts.query,
    ));
    this.devInfo = { ...DEFAULT_DEV_INFO, ...opts.devInfo };
    const b = opts.behaviour ?? {};
    this.tree = new DeviceTree(
      {
        ...devInfoValues(opts.deviceId, this.devInfo),
        ...(b.values ?? windowsDefaultValues(opts.deviceId, this.devInfo)),
        ...(opts.push && pushValues(opts.push)),
      },
      b.existingNodes,
    );
    this.rules = {
      unknownStatus: b.unknownStatus ?? SyncmlStatus.NotFound,
      readOnlyPaths: b.readOnlyPaths ?? DEFAULT_READ_ONLY_PATHS,
      failPaths: b.failPaths ?? {},
      execStatus: b.execStatus ?? SyncmlStatus.Ok,
      unreadablePaths: b.unreadablePaths ?? [],
      ...(opts.maxObjSize !== undefined && { maxObjSize: opts.maxObjSize }),
    };
    this.responder = new CommandResponder(this.tree, this.rules);
    this.transport = new DeviceTransport(opts);
  }

  /** The value the device holds at `path` (what a Get reads back), or undefined. */
  valueOf(path: string): string | undefined {
    const read = this.tree.read(path);
    return read?.kind === 'leaf' ? read.value.data : undefined;
  }

  /**
   * Changes a value behind the server's back (a local administrator, another tool): the next Get
   * reads it, so the server sees drift. The node's format is kept unless `format` is given.
   */
  drift(path: string, data: string, format?: string): void {
    const read = this.tree.read(path);
    const current = read?.kind === 'leaf' ? read.value : undefined;
    this.tree.replace(path, { ...current, data, ...(format !== undefined && { format }) });
  }

  /** Runs one management session; `overrides` replace the constructor's session options. */
  async runSession(overrides: SessionOptions = {}): Promise<SessionResult> {
    if (this.unenrolled) {
      throw new SimulatorError('protocol', `${this.deviceId} was unenrolled by the server`);
    }
    const o: SessionOptions = { ...this.opts, ...overrides };
    // MS-MDM 2.2.3.8: an 8-bit counter, written in decimal, is what Windows starts with.
    const sessionId = o.sessionId ?? String((sessionCounter++ % 255) + 1);
    const started = performance.now();
    const result: SessionResult = {
      deviceId: this.deviceId,
      sessionId,
      outcome: 'completed',
      transcript: [],
      serverStatuses: [],
      warnings: [],
      exchanges: [],
      durationMs: 0,
    };
    this.exchanges = result.exchanges;
    this.responder.startSession();
    const commands = package1Commands({
      deviceId: this.deviceId,
      devInfo: this.devInfo,
      sessionAlert: o.sessionAlert ?? AlertCode.ClientInitiatedMgmt,
      loginStatus: o.loginStatus ?? 'user',
      extraAlerts: [...this.pendingAlerts.splice(0), ...(o.extraAlerts ?? [])],
    });
    try {
      await this.converse(commands, sessionId, o, result);
    } finally {
      result.durationMs = performance.now() - started;
      // DMClient CSP Unenroll: the device leaves once it accepted the Exec.
      this.unenrolled ||= result.transcript.some(
        (t) => t.verb === 'Exec' && UNENROLL_NODE.test(t.target) && t.answeredStatus === '200',
      );
    }
    if (o.strict && result.warnings.length) {
      throw new SimulatorError(
        'protocol',
        result.warnings.join('\n'),
        result.exchanges.at(-1),
        result,
      );
    }
    return result;
  }

  /** Package after package until the server has nothing more to say (§3.1). */
  private async converse(
    first: SyncmlCommand[],
    sessionId: string,
    o: SessionOptions,
    result: SessionResult,
  ): Promise<void> {
    let commands = first;
    let final = true;
    for (let msgId = 1, serverMsgs = 1; ; msgId++, serverMsgs++) {
      if (msgId > MAX_MESSAGES) {
        throw new SimulatorError(
          'protocol',
          `no end after ${MAX_MESSAGES} messages`,
          undefined,
          result,
        );
      }
      const header = deviceHeader({
        sessionId,
        msgId,
        serverUrl: this.target,
        source: o.sourceOverride ?? this.deviceId,
        ...(this.opts.maxMsgSize !== undefined && { maxMsgSize: this.opts.maxMsgSize }),
        ...(this.opts.maxObjSize !== undefined && { maxObjSize: this.opts.maxObjSize }),
      });
      const msg = await this.exchange(
        buildSyncml({ header, commands, final }, { headless: true }),
        result,
        {
          sessionId,
          serverMsgId: serverMsgs,
          deviceMsgId: String(msgId),
          sent: sentOf(commands),
        },
      );
      if (commands.some((c) => c.kind === 'Alert' && c.data === AlertCode.SessionAbort)) {
        result.outcome = 'aborted'; // OMA-DM §8.1: the server's answer to an abort needs no reply
        break;
      }
      const next = idCounter();
      const hdrStatus = syncHdrStatus(next(), msg.header.msgId);
      const due = msg.commands.some((c) => c.kind !== 'Status' && c.kind !== 'Results');
      const stop = !due
        ? undefined
        : isAbort(msg)
          ? 'server-aborted'
          : serverMsgs === o.dropAnswerForMessage
            ? 'dropped'
            : serverMsgs === o.abortAfterMessages && !o.abortWithStatuses
              ? 'aborted'
              : undefined;
      if (stop) {
        // Nothing of this message is applied: the device never answers it.
        const seen = new CommandResponder(this.tree.clone(), this.rules).answer(msg, idCounter());
        result.transcript.push(...seen.transcript.map(unanswered));
        result.serverStatuses.push(...seen.serverStatuses);
        if (stop !== 'aborted') {
          result.outcome = stop;
          break;
        }
        // OMA-DM §8.1: the abort message carries the SyncHdr Status and MUST set Final.
        commands = [hdrStatus, abortAlert(next())];
        final = true;
        continue;
      }
      const answer = this.responder.answer(msg, next);
      for (const node of answer.asyncExecs) {
        this.pendingAlerts.push(msiInstallResultAlert(node, this.opts.behaviour?.msiInstallResult));
      }
      result.transcript.push(...answer.transcript);
      result.serverStatuses.push(...answer.serverStatuses);
      // §3.4: a message with only Statuses ends the session (a reply "MUST NOT be sent").
      if (!answer.hasCommands) break;
      commands = [hdrStatus, ...answer.replies];
      if (serverMsgs === o.abortAfterMessages) commands.push(abortAlert(next()));
      // OMA-DM §6.2: the server's package is not closed yet: ask for its next message, no Final.
      else if (!msg.final) commands.push(nextMessageAlert(next()));
      final = msg.final || serverMsgs === o.abortAfterMessages;
    }
  }

  /** Posts exact bytes (a replayed message, malformed XML…) and returns the raw exchange. */
  async rawSend(body: string | Buffer, contentType = SYNCML_CONTENT_TYPE): Promise<Exchange> {
    const exchange = await this.transport.post(this.requestUrl, body, contentType);
    this.exchanges.push(exchange);
    return exchange;
  }

  /** Closes kept-alive connections; the device can still run sessions afterwards. */
  close(): void {
    this.transport.close();
  }

  private async exchange(
    body: string,
    result: SessionResult,
    x: { sessionId: string; serverMsgId: number; deviceMsgId: string; sent: SentCommand[] },
  ): Promise<SyncmlMessage> {
    let exchange: Exchange;
    try {
      exchange = await this.rawSend(body);
    } catch (err) {
      if (err instanceof SimulatorError) {
        throw new SimulatorError(err.kind, err.message, undefined, result);
      }
      throw err;
    }
    if (exchange.status !== 200) {
      const text = exchange.responseBody.slice(0, 200);
      throw new SimulatorError(
        'http',
        `server answered HTTP ${exchange.status} ${text}`.trim(),
        exchange,
        result,
      );
    }
    let msg: SyncmlMessage;
    try {
      msg = parseSyncml(exchange.responseBody);
    } catch (err) {
      throw new SimulatorError(
        'protocol',
        `unusable answer: ${(err as Error).message}`,
        exchange,
        result,
      );
    }
    const check = checkServerMessage(msg, {
      ...x,
      deviceId: this.deviceId,
      bodyBytes: Buffer.byteLength(exchange.responseBody),
      contentType: exchange.contentType,
      ...(this.opts.maxMsgSize !== undefined && { maxMsgSize: this.opts.maxMsgSize }),
    });
    result.warnings.push(...check.warnings.map((w) => `server message ${msg.header.msgId}: ${w}`));
    const code = check.hdrStatus?.data;
    // OMA-DM §9: 200 or 212 accept the header; 401/407 (with Chal) ask for credentials we lack.
    if (
      code !== undefined &&
      code !== SyncmlStatus.Ok &&
      code !== SyncmlStatus.AuthenticationAccepted
    ) {
      throw new SimulatorError(
        'rejected',
        `server answered the SyncHdr with ${code}`,
        exchange,
        result,
      );
    }
    return msg;
  }
}
