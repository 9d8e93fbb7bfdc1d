import { attrs, el, writeXml, type XmlContent, type XmlNode } from '../../common/xml';
import { META_ORDER, METINF_NS, MSFT_NS, SyncmlNamespace, SyncmlVersion } from './syncml.constants';
import type {
  SyncmlCommand,
  SyncmlHeader,
  SyncmlItem,
  SyncmlMeta,
  SyncmlStatusCommand,
} from './syncml.types';

/** A header to build: VerDTD and VerProto default to 1.2 and DM/1.2 (MS-MDM 2.2.3.13/14). */
export type SyncmlHeaderInput = Omit<SyncmlHeader, 'verDTD' | 'verProto'> &
  Partial<Pick<SyncmlHeader, 'verDTD' | 'verProto'>>;

export interface SyncmlMessageInput {
  header: SyncmlHeaderInput;
  commands: readonly SyncmlCommand[];
  final: boolean;
}

export interface SyncmlBuildOptions {
  /** Omit the XML declaration (MS-MDM 2.2.2 does not require one). */
  headless?: boolean;
}

const text = (name: string, value: string | undefined): XmlNode | null =>
  value === undefined ? null : el(name, value);
const flag = (name: string, on: boolean | undefined): XmlNode | null => (on ? el(name) : null);
const locUri = (name: 'Target' | 'Source', uri: string | undefined): XmlNode | null =>
  uri === undefined ? null : el(name, el('LocURI', uri));
const many = (name: string, values: readonly string[]): XmlNode[] => values.map((v) => el(name, v));

// MS-MDM 2.2.5.3: `<Format xmlns="syncml:metinf">`.
function metaNode(meta: SyncmlMeta | undefined): XmlNode | null {
  if (!meta) return null;
  const children = META_ORDER.filter(([k]) => meta[k] !== undefined).map(([k, name]) =>
    el(name, attrs({ xmlns: METINF_NS }), meta[k]),
  );
  return children.length ? el('Meta', children) : null;
}

// MS-MDM 2.2.5.2: Target, Source, Meta, Data, MoreData.
function itemNode(item: SyncmlItem): XmlNode {
  return el(
    'Item',
    locUri('Target', item.target),
    locUri('Source', item.source),
    metaNode(item.meta),
    text('Data', item.data),
    flag('MoreData', item.moreData),
  );
}

function statusNode(s: SyncmlStatusCommand): XmlNode {
  const dataAttrs =
    s.originalError === undefined
      ? null
      : attrs({ 'xmlns:msft': MSFT_NS, 'msft:originalerror': s.originalError });
  // MS-MDM 2.2.6.1 with the RepPro DTD order: CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*,
  // Chal?, Data, Item*.
  return el(
    'Status',
    el('CmdID', s.cmdId),
    el('MsgRef', s.msgRef),
    el('CmdRef', s.cmdRef),
    el('Cmd', s.cmd),
    many('TargetRef', s.targetRef),
    many('SourceRef', s.sourceRef),
    s.chal ? el('Chal', metaNode(s.chal.meta)) : null,
    el('Data', dataAttrs, s.data),
    s.items.map(itemNode),
  );
}

/** One command as an element tree, children in DTD order (management-session.md §2.5). */
export function commandNode(cmd: SyncmlCommand): XmlNode {
  const head: XmlContent[] = [
    el('CmdID', cmd.cmdId),
    'noResp' in cmd && flag('NoResp', cmd.noResp),
  ];
  switch (cmd.kind) {
    case 'Add':
    case 'Copy':
    case 'Delete':
    case 'Exec':
    case 'Get':
    case 'Replace':
      return el(cmd.kind, head, metaNode(cmd.meta), cmd.items.map(itemNode));
    case 'Alert':
      // MS-MDM 2.2.7.2: CmdID, Data (the alert code), Item*.
      return el('Alert', head, text('Data', cmd.data), cmd.items.map(itemNode));
    case 'Atomic':
    case 'Sequence':
      return el(cmd.kind, head, metaNode(cmd.meta), cmd.commands.map(commandNode));
    case 'Results':
      // MS-MDM 2.2.7.8: CmdID, MsgRef?, CmdRef, Cmd, Meta?, then OMA's TargetRef?, SourceRef?, Item+.
      return el(
        'Results',
        head,
        text('MsgRef', cmd.msgRef),
        el('CmdRef', cmd.cmdRef),
        text('Cmd', cmd.cmd),
        metaNode(cmd.meta),
        many('TargetRef', cmd.targetRef),
        many('SourceRef', cmd.sourceRef),
        cmd.items.map(itemNode),
      );
    case 'Status':
      return statusNode(cmd);
    case 'Unsupported':
      throw new TypeError(`cannot build unsupported element ${cmd.element}`);
  }
}

// RepPro: VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?.
function headerNode(h: SyncmlHeaderInput): XmlNode {
  return el(
    'SyncHdr',
    el('VerDTD', h.verDTD ?? SyncmlVersion.VerDTD),
    el('VerProto', h.verProto ?? SyncmlVersion.VerProto),
    el('SessionID', h.sessionId),
    el('MsgID', h.msgId),
    locUri('Target', h.target),
    locUri('Source', h.source),
    text('RespURI', h.respUri),
    flag('NoResp', h.noResp),
    h.cred ? el('Cred', metaNode(h.cred.meta), el('Data', h.cred.data)) : null,
    metaNode(h.meta),
  );
}

export function messageNode(message: SyncmlMessageInput): XmlNode {
  return el(
    'SyncML',
    attrs({ xmlns: SyncmlNamespace.V12 }),
    headerNode(message.header),
    el('SyncBody', message.commands.map(commandNode), flag('Final', message.final)),
  );
}

/**
 * Serializes a message through the one XML writer (src/common/xml/xml-writer.ts): the oracle the
 * string writer (syncml-write.ts, `buildSyncml`) is property-tested against, byte for byte.
 */
export function buildSyncmlTree(
  message: SyncmlMessageInput,
  opts: SyncmlBuildOptions = {},
): string {
  return writeXml(messageNode(message), opts);
}
