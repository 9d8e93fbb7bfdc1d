import {
  SYNCHDR_CMD,
  SYNCHDR_CMD_REF,
  type SyncmlCommand,
  type SyncmlMessage,
  type SyncmlStatusCommand,
} from '../../src/syncml/codec';

export { SYNCML_CONTENT_TYPE } from '../../src/common/device-protocol';
import { SYNCML_CONTENT_TYPE } from '../../src/common/device-protocol';

/** A command the device sent, to match the server's Statuses against. */
export interface SentCommand {
  cmdId: string;
  /** Verb; for an Alert, `Alert <code>` is only used in messages. */
  cmd: string;
  label: string;
}

export interface ServerMessageExpectations {
  sessionId: string;
  deviceId: string;
  /** The server's MsgID this message should carry (its own counter, §3.5). */
  serverMsgId: number;
  /** MsgID of the device message it answers. */
  deviceMsgId: string;
  sent: readonly SentCommand[];
  maxMsgSize?: number;
  bodyBytes: number;
  contentType: string | undefined;
}

export interface ServerMessageCheck {
  warnings: string[];
  /** The server's Status for the device's SyncHdr, if any. */
  hdrStatus?: SyncmlStatusCommand;
}

function allCommands(commands: readonly SyncmlCommand[]): SyncmlCommand[] {
  return commands.flatMap((c) => ('commands' in c ? [c, ...allCommands(c.commands)] : [c]));
}

/**
 * Checks one server message against the rules of management-session.md, so tests and the CLI can
 * see what a real Windows client might trip over. Every finding is one sentence.
 */
export function checkServerMessage(
  msg: SyncmlMessage,
  x: ServerMessageExpectations,
): ServerMessageCheck {
  const w: string[] = [];
  const h = msg.header;
  if (!x.contentType?.toLowerCase().startsWith(SYNCML_CONTENT_TYPE)) {
    w.push(`§1.4: response Content-Type is ${x.contentType ?? 'missing'}`);
  }
  if (h.sessionId !== x.sessionId)
    w.push(`§3.3: SessionID ${h.sessionId}, expected ${x.sessionId}`);
  if (h.target !== x.deviceId)
    w.push(`§3.3: SyncHdr Target ${h.target || '(none)'} is not the DeviceID`);
  if (h.msgId !== String(x.serverMsgId))
    w.push(`§3.5: server MsgID ${h.msgId}, expected ${x.serverMsgId}`);
  if (x.maxMsgSize !== undefined && x.bodyBytes > x.maxMsgSize) {
    w.push(`§3.8: message of ${x.bodyBytes} bytes exceeds MaxMsgSize ${x.maxMsgSize}`);
  }

  const statuses = msg.commands.filter((c): c is SyncmlStatusCommand => c.kind === 'Status');
  const hdrStatus = statuses.find((s) => s.cmdRef === SYNCHDR_CMD_REF && s.cmd === SYNCHDR_CMD);
  if (!hdrStatus) w.push('§3.3: no Status for the device SyncHdr');
  else {
    if (msg.commands[0] !== hdrStatus) w.push('§3.3: the SyncHdr Status is not the first command');
    if (hdrStatus.msgRef !== x.deviceMsgId) {
      w.push(`§2.4: SyncHdr Status MsgRef ${hdrStatus.msgRef}, expected ${x.deviceMsgId}`);
    }
  }
  for (const s of statuses) {
    if (s !== hdrStatus && s.msgRef !== x.deviceMsgId) {
      w.push(`§2.4: Status CmdRef ${s.cmdRef} has MsgRef ${s.msgRef}, expected ${x.deviceMsgId}`);
    }
  }

  // OMA-DM §8.4: every device command gets a Status, in order; never a Status on a Status/Results.
  let lastIndex = -1;
  for (const sent of x.sent) {
    const index = statuses.findIndex((s) => s !== hdrStatus && s.cmdRef === sent.cmdId);
    const needsStatus = sent.cmd !== 'Status' && sent.cmd !== 'Results';
    if (!needsStatus) {
      if (index >= 0) w.push(`§3.4: the server answered the device ${sent.label} with a Status`);
      continue;
    }
    if (index < 0) {
      w.push(`§3.3: no Status for the device ${sent.label}`);
      continue;
    }
    if (statuses[index].cmd !== sent.cmd) {
      w.push(`§2.4: Status for ${sent.label} has Cmd ${statuses[index].cmd}`);
    }
    if (index < lastIndex) w.push(`§3.3: Status for ${sent.label} is out of order`);
    lastIndex = Math.max(lastIndex, index);
  }

  // MS-MDM 2.2.3.2: CmdID required, never "0", unique within the message.
  const seen = new Set<string>();
  for (const c of allCommands(msg.commands)) {
    if (!c.cmdId) w.push(`§2.4: a ${c.kind} has no CmdID`);
    else if (c.cmdId === '0') w.push(`§2.4: a ${c.kind} has CmdID 0`);
    else if (seen.has(c.cmdId)) w.push(`§2.4: CmdID ${c.cmdId} is used twice in one message`);
    seen.add(c.cmdId);
  }
  const hasCommands = msg.commands.some((c) => c.kind !== 'Status' && c.kind !== 'Results');
  if (!msg.final && !hasCommands) w.push('§2.3: closing message without Final');
  return { warnings: w, ...(hdrStatus && { hdrStatus }) };
}
