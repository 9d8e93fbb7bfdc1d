import {
  AlertCode,
  MetaFormat,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlItem,
  type SyncmlMessage,
  type SyncmlMeta,
  type SyncmlResultsCommand,
  type SyncmlStatusCommand,
} from '../../src/syncml/codec';
import { LargeObjectBuffer } from './large-object';
import { isUnder, type DeviceTree } from './tree';
import type { NodeValue, ServerStatus, TranscriptEntry } from './types';

export interface ResponderRules {
  unknownStatus: string;
  readOnlyPaths: readonly string[];
  failPaths: Readonly<Record<string, string>>;
  execStatus: string;
  /** Writes accepted, Get answered 404 even once set (Policy CSP nodes Windows does not read). */
  unreadablePaths?: readonly string[];
  /** The MaxObjSize the device announces: larger objects get 413 (OMA-DM 1.2 §7). */
  maxObjSize?: number;
}

/** EnterpriseDesktopAppManagement CSP: an MSI install runs asynchronously (202, then an alert). */
const MSI_DOWNLOAD_INSTALL =
  /^\.\/(Device|User)\/Vendor\/MSFT\/EnterpriseDesktopAppManagement\/MSI\/[^/]+\/DownloadInstall$/;

export type Reply = SyncmlStatusCommand | SyncmlResultsCommand;

/** What the device has to say about one server message. */
export interface Answer {
  /** Statuses and Results for the server's commands, in document order (MS-MDM 2.2.6.1). */
  replies: Reply[];
  transcript: TranscriptEntry[];
  /** Statuses the server sent for the device's own header and commands. */
  serverStatuses: ServerStatus[];
  /** The server sent commands (anything but Status/Results): a reply is due (§3.4). */
  hasCommands: boolean;
  /** The server sent Alert 1223: the device SHOULD NOT answer (OMA-DM §8.1). */
  serverAborted: boolean;
  /** Nodes of Execs accepted with 202 whose outcome the device reports later by alert. */
  asyncExecs: string[];
}

interface Ctx {
  msgId: string;
  nextId: () => string;
  answer: Answer;
}
type ItemCommand = Extract<SyncmlCommand, { kind: 'Add' | 'Delete' | 'Exec' | 'Get' | 'Replace' }>;
interface ItemOutcome {
  target: string;
  code: string;
  result?: SyncmlItem;
}

const is2xx = (code: string): boolean => code.startsWith('2');

/**
 * Answers server commands like a Windows DM client (management-session.md §3.4, §3.9, §3.10),
 * reading and changing a DeviceTree. Pure: no I/O; CmdIDs come from `nextId`.
 */
export class CommandResponder {
  private readonly largeObjects = new LargeObjectBuffer();

  constructor(
    private readonly tree: DeviceTree,
    private readonly rules: ResponderRules,
  ) {}

  /** A new session: a large object left incomplete by the last one is dropped. */
  startSession(): void {
    this.largeObjects.drop();
  }

  answer(message: SyncmlMessage, nextId: () => string): Answer {
    const ctx: Ctx = {
      msgId: message.header.msgId,
      nextId,
      answer: {
        replies: [],
        transcript: [],
        serverStatuses: [],
        hasCommands: false,
        serverAborted: false,
        asyncExecs: [],
      },
    };
    for (const cmd of message.commands) ctx.answer.replies.push(...this.run(cmd, this.tree, ctx));
    return ctx.answer;
  }

  private run(cmd: SyncmlCommand, tree: DeviceTree, ctx: Ctx, parent?: SyncmlCommand): Reply[] {
    if (cmd.kind === 'Status') {
      const { msgRef, cmdRef, cmd: verb, data } = cmd;
      ctx.answer.serverStatuses.push({ msgRef, cmdRef, cmd: verb, data });
      return [];
    }
    if (cmd.kind === 'Results') return []; // never answered (OMA-DM §6.1)
    ctx.answer.hasCommands = true;
    switch (cmd.kind) {
      case 'Alert': {
        const e = this.entry(ctx, cmd.cmdId, 'Alert', '', parent, { data: cmd.data });
        if (cmd.data === AlertCode.SessionAbort) {
          ctx.answer.serverAborted = true;
          return [];
        }
        // Server → device alerts on Windows are only 1222 and 1223 (§2.5).
        const code =
          cmd.data === AlertCode.NextMessage
            ? SyncmlStatus.Ok
            : SyncmlStatus.OptionalFeatureNotSupported;
        return [this.status(ctx, e, cmd.cmdId, 'Alert', code)];
      }
      case 'Copy':
      case 'Unsupported': {
        // OMA-PS / §3.10: an element Windows does not treat as a command gets 400.
        const verb = cmd.kind === 'Copy' ? 'Copy' : cmd.element;
        const target = cmd.kind === 'Copy' ? (cmd.items[0]?.target ?? '') : '';
        const e = this.entry(ctx, cmd.cmdId, verb, target, parent);
        return [this.status(ctx, e, cmd.cmdId, verb, SyncmlStatus.BadRequest)];
      }
      case 'Atomic':
      case 'Sequence':
        return this.container(cmd, tree, ctx, parent);
      default:
        return this.itemCommand(cmd, tree, ctx, parent);
    }
  }

  private container(
    cmd: Extract<SyncmlCommand, { kind: 'Atomic' | 'Sequence' }>,
    tree: DeviceTree,
    ctx: Ctx,
    parent: SyncmlCommand | undefined,
  ): Reply[] {
    const own = this.entry(ctx, cmd.cmdId, cmd.kind, '', parent);
    if (cmd.kind === 'Atomic' && parent?.kind === 'Atomic') {
      // OMA-PS: a nested Atomic is refused with 500 (nothing inside it runs).
      return [
        this.status(ctx, own, cmd.cmdId, 'Atomic', SyncmlStatus.CommandFailed),
        ...this.refuse(cmd.commands, ctx, cmd),
      ];
    }
    const head = this.status(ctx, own, cmd.cmdId, cmd.kind, SyncmlStatus.Ok);
    if (cmd.kind === 'Sequence') {
      // OMA-PS: contained commands run in document order; nothing is rolled back.
      return [head, ...cmd.commands.flatMap((c) => this.run(c, tree, ctx, cmd))];
    }
    // MS-MDM 3.1.5.1.3: all or nothing, so run on a scratch copy and commit only on success.
    const scratch = tree.clone();
    const firstEntry = ctx.answer.transcript.length;
    const inner = cmd.commands.flatMap((c) => this.run(c, scratch, ctx, cmd));
    if (inner.every((r) => r.kind !== 'Status' || is2xx(r.data))) {
      tree.assign(scratch);
      return [head, ...inner];
    }
    // §3.9: the Atomic 507, the commands that had succeeded 216 (rolled back).
    head.data = own.answeredStatus = SyncmlStatus.AtomicFailed;
    const rolledBack = (code: string | undefined) => code !== undefined && is2xx(code);
    for (const r of inner) {
      if (r.kind === 'Status' && rolledBack(r.data)) r.data = SyncmlStatus.AtomicRollbackOk;
    }
    for (const e of ctx.answer.transcript.slice(firstEntry)) {
      if (rolledBack(e.answeredStatus)) e.answeredStatus = SyncmlStatus.AtomicRollbackOk;
    }
    return [head, ...inner];
  }

  /** Every command inside a refused container still gets its one Status (MS-MDM 2.2.6.1). */
  private refuse(commands: SyncmlCommand[], ctx: Ctx, parent: SyncmlCommand): Reply[] {
    return commands.flatMap((c) => {
      if (c.kind === 'Status' || c.kind === 'Results') return [];
      const verb = c.kind === 'Unsupported' ? c.element : c.kind;
      const e = this.entry(
        ctx,
        c.cmdId,
        verb,
        'items' in c ? (c.items[0]?.target ?? '') : '',
        parent,
      );
      const own = this.status(ctx, e, c.cmdId, verb, SyncmlStatus.CommandFailed);
      return 'commands' in c ? [own, ...this.refuse(c.commands, ctx, c)] : [own];
    });
  }

  private itemCommand(
    cmd: ItemCommand,
    tree: DeviceTree,
    ctx: Ctx,
    parent?: SyncmlCommand,
  ): Reply[] {
    if (!cmd.items.length || (cmd.kind === 'Get' && parent?.kind === 'Atomic')) {
      // An Item-less command is incomplete (412); OMA-PS: Get inside Atomic → 500, Atomic 507.
      const code = cmd.items.length ? SyncmlStatus.CommandFailed : SyncmlStatus.IncompleteCommand;
      const e = this.entry(ctx, cmd.cmdId, cmd.kind, cmd.items[0]?.target ?? '', parent);
      return [this.status(ctx, e, cmd.cmdId, cmd.kind, code)];
    }
    const entries: TranscriptEntry[] = [];
    const outcomes = cmd.items.map((item) => {
      // MS-MDM 2.2.5.3: command Meta applies to every item unless the item overrides a field.
      const meta: SyncmlMeta = { ...cmd.meta, ...item.meta };
      const e = this.entry(ctx, cmd.cmdId, cmd.kind, item.target ?? '', parent, {
        ...(meta.format !== undefined && { format: meta.format }),
        ...(item.data !== undefined && { data: item.data }),
      });
      entries.push(e);
      const outcome = this.item(cmd.kind, item, meta, tree);
      if (cmd.kind === 'Exec' && outcome.code === SyncmlStatus.Accepted) {
        ctx.answer.asyncExecs.push(outcome.target);
      }
      e.answeredStatus = outcome.code;
      if (outcome.result) e.resultValue = outcome.result.data;
      return outcome;
    });
    const replies: Reply[] = [];
    // MS-MDM 2.2.6.1: one Status for the command; TargetRef only when its items got different codes.
    if (outcomes.every((o) => o.code === outcomes[0].code)) {
      replies.push(this.status(ctx, undefined, cmd.cmdId, cmd.kind, outcomes[0].code));
    } else {
      for (const o of outcomes)
        replies.push(this.status(ctx, undefined, cmd.cmdId, cmd.kind, o.code, [o.target]));
    }
    const results = outcomes.flatMap((o) => (o.result ? [o.result] : []));
    if (results.length) {
      // MS-MDM 3.1.5.1.6 / WIPLOG: the Results right after the Status of its Get.
      replies.push({
        kind: 'Results',
        cmdId: ctx.nextId(),
        msgRef: ctx.msgId,
        cmdRef: cmd.cmdId,
        cmd: 'Get',
        targetRef: [],
        sourceRef: [],
        items: results,
      });
    }
    return replies;
  }

  private item(
    verb: ItemCommand['kind'],
    item: SyncmlItem,
    meta: SyncmlMeta,
    tree: DeviceTree,
  ): ItemOutcome {
    const target = item.target ?? '';
    const done = (code: string, result?: SyncmlItem): ItemOutcome => ({
      target,
      code,
      ...(result && { result }),
    });
    if (Object.prototype.hasOwnProperty.call(this.rules.failPaths, target)) {
      return done(this.rules.failPaths[target]);
    }
    if (!target) return done(SyncmlStatus.IncompleteCommand);
    if (verb === 'Get') {
      if (this.rules.unreadablePaths?.includes(target)) return done(SyncmlStatus.NotFound);
      const read = tree.read(target);
      if (!read) return done(this.rules.unknownStatus);
      // OMA-PS: an interior node returns its child names, '/'-separated, Format node.
      const value: NodeValue =
        read.kind === 'leaf'
          ? read.value
          : { data: read.children.join('/'), format: MetaFormat.Node };
      const resultMeta: SyncmlMeta = { format: value.format ?? MetaFormat.Chr };
      if (value.format !== MetaFormat.Node) resultMeta.type = value.type ?? 'text/plain';
      return done(SyncmlStatus.Ok, { source: target, meta: resultMeta, data: value.data });
    }
    // §3.10: write to a read-only node / operation not allowed on the node → 405.
    if (this.rules.readOnlyPaths.some((root) => isUnder(target, root))) {
      return done(SyncmlStatus.CommandNotAllowed);
    }
    if (verb === 'Delete') {
      tree.delete(target);
      return done(SyncmlStatus.Ok);
    }
    if (verb === 'Exec') {
      // MS-MDM 3.1.5.1.5: 200, or 202 (accepted, completes later); an MSI install is always 202.
      if (MSI_DOWNLOAD_INSTALL.test(target)) return done(SyncmlStatus.Accepted);
      return done(this.rules.execStatus);
    }
    if (this.tooLarge(item, meta)) {
      this.largeObjects.drop();
      return done(SyncmlStatus.RequestEntityTooLarge);
    }
    const value = this.largeObjects.take(item, meta);
    if (value === 'partial') return done(SyncmlStatus.ChunkedItemAccepted);
    if (value === 'mismatch') return done(SyncmlStatus.SizeMismatch); // OMA-DM §7
    if (verb === 'Replace') {
      tree.replace(target, value ?? { data: '' });
      return done(SyncmlStatus.Ok);
    }
    if (tree.exists(target)) return done(SyncmlStatus.AlreadyExists); // §2.5: Add of an existing node
    tree.add(target, value);
    return done(SyncmlStatus.Ok);
  }

  /** OMA-DM 1.2 §7: an object over MaxObjSize, by the first chunk's Size or its own data. */
  private tooLarge(item: SyncmlItem, meta: SyncmlMeta): boolean {
    const max = this.rules.maxObjSize;
    if (max === undefined) return false;
    const size = meta.size !== undefined ? Number(meta.size) : undefined;
    if (size !== undefined && size > max) return true;
    return !item.moreData && Buffer.byteLength(item.data ?? '') > max;
  }

  private entry(
    ctx: Ctx,
    cmdId: string,
    verb: string,
    target: string,
    parent: SyncmlCommand | undefined,
    extra: Partial<TranscriptEntry> = {},
  ): TranscriptEntry {
    const e: TranscriptEntry = { msgId: ctx.msgId, cmdId, verb, target, ...extra };
    if (e.data === undefined) delete e.data;
    if (parent) e.parentCmdId = parent.cmdId;
    ctx.answer.transcript.push(e);
    return e;
  }

  /** MS-MDM 2.2.6.1: MsgRef = the server's MsgID, CmdRef = its CmdID, Cmd = its verb. */
  private status(
    ctx: Ctx,
    entry: TranscriptEntry | undefined,
    cmdRef: string,
    cmd: string,
    data: string,
    targetRef: string[] = [],
  ): SyncmlStatusCommand {
    if (entry) entry.answeredStatus = data;
    return {
      kind: 'Status',
      cmdId: ctx.nextId(),
      msgRef: ctx.msgId,
      cmdRef,
      cmd,
      targetRef,
      sourceRef: [],
      data,
      items: [],
    };
  }
}
