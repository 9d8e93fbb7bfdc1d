import { hasIllegalXmlChar, XML_DECLARATION, XmlWriteError } from '../../common/xml';
import type { SyncmlBuildOptions, SyncmlHeaderInput, SyncmlMessageInput } from './syncml-build';
import { META_ORDER, METINF_NS, MSFT_NS, SyncmlNamespace, SyncmlVersion } from './syncml.constants';
import type { SyncmlCommand, SyncmlItem, SyncmlMeta, SyncmlStatusCommand } from './syncml.types';

/*
 * The SyncML answer as a string, written directly: the same bytes as the element-tree builder
 * (syncml-build.ts, through xmlbuilder2), which stays as this writer's test oracle (the property
 * test in syncml-write.spec.ts) and for message sizes. Every element name is a constant here;
 * values are escaped by the rules of src/common/xml/xml-writer.ts (research/xml-parsers.md): in
 * text & < > and CR (as &#13;, which XML 1.0 §2.11 would otherwise normalise away); in attribute
 * values also " TAB LF (§3.3.3); a character XML 1.0 forbids throws XmlWriteError. An element
 * without content self-closes.
 */

const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<>\r"\t\n]/;
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\r': '&#13;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
};

function checked(value: string): string {
  if (hasIllegalXmlChar(value)) {
    throw new XmlWriteError('illegal-char', 'value contains a character XML 1.0 forbids');
  }
  return value;
}

function escapeText(value: string): string {
  checked(value);
  return TEXT_SPECIAL.test(value) ? value.replace(/[&<>\r]/g, (c) => ESCAPES[c]) : value;
}

function escapeAttr(value: string): string {
  checked(value);
  return ATTR_SPECIAL.test(value) ? value.replace(/[&<>\r"\t\n]/g, (c) => ESCAPES[c]) : value;
}

/** `<name>text</name>`, or `<name/>` for the empty string. */
function text(name: string, value: string): string {
  return value === '' ? `<${name}/>` : `<${name}>${escapeText(value)}</${name}>`;
}

const optText = (name: string, value: string | undefined): string =>
  value === undefined ? '' : text(name, value);

/** `<name>inner</name>`, or `<name/>` when there is no inner content. */
const wrap = (name: string, inner: string): string =>
  inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;

const locUri = (name: 'Target' | 'Source', uri: string | undefined): string =>
  uri === undefined ? '' : `<${name}>${text('LocURI', uri)}</${name}>`;

const many = (name: string, values: readonly string[]): string =>
  values.map((v) => text(name, v)).join('');

const METINF_ATTR = ` xmlns="${METINF_NS}"`;

// MS-MDM 2.2.5.3: `<Format xmlns="syncml:metinf">`.
function meta(m: SyncmlMeta | undefined): string {
  if (!m) return '';
  let inner = '';
  for (const [k, name] of META_ORDER) {
    const v = m[k];
    if (v === undefined) continue;
    inner +=
      v === '' ? `<${name}${METINF_ATTR}/>` : `<${name}${METINF_ATTR}>${escapeText(v)}</${name}>`;
  }
  return inner === '' ? '' : `<Meta>${inner}</Meta>`;
}

// MS-MDM 2.2.5.2: Target, Source, Meta, Data, MoreData.
function item(i: SyncmlItem): string {
  return wrap(
    'Item',
    locUri('Target', i.target) +
      locUri('Source', i.source) +
      meta(i.meta) +
      optText('Data', i.data) +
      (i.moreData ? '<MoreData/>' : ''),
  );
}

const items = (list: readonly SyncmlItem[]): string => list.map(item).join('');

const MSFT_ATTR = ` xmlns:msft="${MSFT_NS}"`;

// MS-MDM 2.2.6.1 with the RepPro DTD order: CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*,
// Chal?, Data, Item*.
function status(s: SyncmlStatusCommand): string {
  let data: string;
  if (s.originalError === undefined) data = text('Data', s.data);
  else {
    const open = `<Data${MSFT_ATTR} msft:originalerror="${escapeAttr(s.originalError)}"`;
    data = s.data === '' ? `${open}/>` : `${open}>${escapeText(s.data)}</Data>`;
  }
  return (
    '<Status>' +
    text('CmdID', s.cmdId) +
    text('MsgRef', s.msgRef) +
    text('CmdRef', s.cmdRef) +
    text('Cmd', s.cmd) +
    many('TargetRef', s.targetRef) +
    many('SourceRef', s.sourceRef) +
    (s.chal ? wrap('Chal', meta(s.chal.meta)) : '') +
    data +
    items(s.items) +
    '</Status>'
  );
}

/** One command, children in DTD order (management-session.md §2.5). */
export function writeCommand(cmd: SyncmlCommand): string {
  if (cmd.kind === 'Status') return status(cmd);
  if (cmd.kind === 'Unsupported') {
    throw new TypeError(`cannot build unsupported element ${cmd.element}`);
  }
  const head = text('CmdID', cmd.cmdId) + ('noResp' in cmd && cmd.noResp ? '<NoResp/>' : '');
  switch (cmd.kind) {
    case 'Add':
    case 'Copy':
    case 'Delete':
    case 'Exec':
    case 'Get':
    case 'Replace':
      return `<${cmd.kind}>${head}${meta(cmd.meta)}${items(cmd.items)}</${cmd.kind}>`;
    case 'Alert':
      // MS-MDM 2.2.7.2: CmdID, Data (the alert code), Item*.
      return `<Alert>${head}${optText('Data', cmd.data)}${items(cmd.items)}</Alert>`;
    case 'Atomic':
    case 'Sequence':
      return `<${cmd.kind}>${head}${meta(cmd.meta)}${cmd.commands.map(writeCommand).join('')}</${cmd.kind}>`;
    case 'Results':
      // MS-MDM 2.2.7.8: CmdID, MsgRef?, CmdRef, Cmd, Meta?, then OMA's TargetRef?, SourceRef?, Item+.
      return (
        '<Results>' +
        head +
        optText('MsgRef', cmd.msgRef) +
        text('CmdRef', cmd.cmdRef) +
        optText('Cmd', cmd.cmd) +
        meta(cmd.meta) +
        many('TargetRef', cmd.targetRef) +
        many('SourceRef', cmd.sourceRef) +
        items(cmd.items) +
        '</Results>'
      );
  }
}

// RepPro: VerDTD, VerProto, SessionID, MsgID, Target, Source, RespURI?, NoResp?, Cred?, Meta?.
function header(h: SyncmlHeaderInput): string {
  return (
    '<SyncHdr>' +
    text('VerDTD', h.verDTD ?? SyncmlVersion.VerDTD) +
    text('VerProto', h.verProto ?? SyncmlVersion.VerProto) +
    text('SessionID', h.sessionId) +
    text('MsgID', h.msgId) +
    locUri('Target', h.target) +
    locUri('Source', h.source) +
    optText('RespURI', h.respUri) +
    (h.noResp ? '<NoResp/>' : '') +
    (h.cred ? `<Cred>${meta(h.cred.meta)}${text('Data', h.cred.data)}</Cred>` : '') +
    meta(h.meta) +
    '</SyncHdr>'
  );
}

const ROOT_OPEN = `<SyncML xmlns="${SyncmlNamespace.V12}">`;

/** The message as XML text, byte for byte what the element-tree builder writes. */
export function buildSyncml(message: SyncmlMessageInput, opts: SyncmlBuildOptions = {}): string {
  const body = message.commands.map(writeCommand).join('') + (message.final ? '<Final/>' : '');
  return (
    (opts.headless ? '' : XML_DECLARATION) +
    ROOT_OPEN +
    header(message.header) +
    wrap('SyncBody', body) +
    '</SyncML>'
  );
}
