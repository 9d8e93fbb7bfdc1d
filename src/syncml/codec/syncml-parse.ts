import {
  childElements,
  firstChild,
  parseXmlSafely,
  textOf,
  XmlParseError,
  type SafeXmlLimits,
  type XmlElement,
} from '../../common/xml';
import { markupOf } from './syncml-markup';
import { ACCEPTED_SYNCML_NAMESPACES, SyncmlVersion } from './syncml.constants';
import { SyncmlDecodeError } from './syncml-decode-error';
import type {
  SyncmlCommand,
  SyncmlHeader,
  SyncmlItem,
  SyncmlMessage,
  SyncmlMeta,
  SyncmlStatusCommand,
} from './syncml.types';

/**
 * Parses a device message. Refuses unsafe or malformed XML and messages without the header fields
 * an answer needs (management-session.md §6); keeps every command in document order.
 */
export function parseSyncml(body: Buffer | string, limits?: SafeXmlLimits): SyncmlMessage {
  let root: XmlElement;
  try {
    root = parseXmlSafely(body, limits);
  } catch (err) {
    if (err instanceof XmlParseError)
      throw new SyncmlDecodeError('invalid-xml', err.message, err.reason);
    throw err;
  }
  // MS-MDM 2.2.4.1: <SyncML xmlns="SYNCML:SYNCML1.2">; 1.1 occurs in Microsoft CSP samples.
  if (root.name !== 'SyncML' || !ACCEPTED_SYNCML_NAMESPACES.includes(root.ns)) {
    throw new SyncmlDecodeError('not-syncml', `root is {${root.ns}}${root.name}, not SyncML`);
  }
  const ns = root.ns;
  const header = parseHeader(required(root, 'SyncHdr', 'SyncML', ns), ns);
  const body_ = required(root, 'SyncBody', 'SyncML', ns);
  const commands: SyncmlCommand[] = [];
  let final = false;
  for (const c of childElements(body_)) {
    // A command is a SyncML element: `<x:Replace xmlns:x="urn:other">` is not a Replace.
    inSyncml(c, ns, 'SyncML/SyncBody');
    if (c.name === 'Final') final = true;
    else commands.push(parseCommand(c));
  }
  return { header, commands, final };
}

/**
 * management-session.md §2.1: SyncHdr, SyncBody and the fields an answer needs are elements of
 * the root's SyncML namespace (Windows declares it once, on SyncML, and children inherit it).
 * Elsewhere matching stays by local name (Meta children in syncml:metinf, §8.11).
 */
function inSyncml(el: XmlElement, ns: string, path: string): XmlElement {
  if (el.ns !== ns) {
    throw new SyncmlDecodeError(
      'foreign-namespace',
      `${path}/${el.name} is in namespace "${el.ns}", not ${ns}`,
    );
  }
  return el;
}

function required(parent: XmlElement, name: string, path: string, ns: string): XmlElement {
  const el = firstChild(parent, name);
  if (!el) throw new SyncmlDecodeError('missing-element', `${path}/${name} is missing`);
  return inSyncml(el, ns, path);
}

function requiredText(parent: XmlElement, name: string, path: string, ns: string): string {
  const value = textOf(required(parent, name, path, ns));
  if (value === '') throw new SyncmlDecodeError('missing-element', `${path}/${name} is empty`);
  return value;
}

function optionalText(parent: XmlElement, name: string): string | undefined {
  const el = firstChild(parent, name);
  return el ? textOf(el) : undefined;
}

function locUri(parent: XmlElement, name: 'Target' | 'Source'): string | undefined {
  const el = firstChild(parent, name);
  return el ? optionalText(el, 'LocURI') : undefined;
}

function parseHeader(hdr: XmlElement, ns: string): SyncmlHeader {
  const verDTD = requiredText(hdr, 'VerDTD', 'SyncHdr', ns);
  const verProto = requiredText(hdr, 'VerProto', 'SyncHdr', ns);
  // MS-MDM 2.2.3.13 / 2.2.3.14.
  if (verDTD !== SyncmlVersion.VerDTD || verProto !== SyncmlVersion.VerProto) {
    throw new SyncmlDecodeError('unsupported-version', `VerDTD ${verDTD}, VerProto ${verProto}`);
  }
  const header: SyncmlHeader = {
    verDTD,
    verProto,
    // MS-MDM 2.2.3.8: opaque, may be hex; never a number.
    sessionId: requiredText(hdr, 'SessionID', 'SyncHdr', ns),
    msgId: requiredText(hdr, 'MsgID', 'SyncHdr', ns),
    target: locUri(hdr, 'Target') ?? '',
    source: requiredText(required(hdr, 'Source', 'SyncHdr', ns), 'LocURI', 'SyncHdr/Source', ns),
  };
  const respUri = optionalText(hdr, 'RespURI');
  if (respUri !== undefined) header.respUri = respUri;
  if (firstChild(hdr, 'NoResp')) header.noResp = true;
  const cred = firstChild(hdr, 'Cred');
  if (cred) header.cred = { ...metaOf(cred), data: optionalText(cred, 'Data') ?? '' };
  return { ...header, ...metaOf(hdr) };
}

const META_FIELDS: Readonly<Record<string, keyof SyncmlMeta>> = {
  Format: 'format',
  Type: 'type',
  Mark: 'mark',
  Size: 'size',
  NextNonce: 'nextNonce',
  MaxMsgSize: 'maxMsgSize',
  MaxObjSize: 'maxObjSize',
};

// management-session.md §2.1 / §8.11: by local name, whatever the prefix or namespace spelling
// (`A:Format`, `syncml:metinfo`).
function parseMeta(meta: XmlElement): SyncmlMeta {
  const out: SyncmlMeta = {};
  for (const c of childElements(meta)) {
    const field = Object.prototype.hasOwnProperty.call(META_FIELDS, c.name)
      ? META_FIELDS[c.name]
      : undefined;
    if (field && out[field] === undefined) out[field] = textOf(c);
  }
  return out;
}

function metaOf(parent: XmlElement): { meta?: SyncmlMeta } {
  const meta = firstChild(parent, 'Meta');
  return meta ? { meta: parseMeta(meta) } : {};
}

function parseItem(item: XmlElement): SyncmlItem {
  const out: SyncmlItem = {};
  const target = locUri(item, 'Target');
  if (target !== undefined) out.target = target;
  const source = locUri(item, 'Source');
  if (source !== undefined) out.source = source;
  const meta = firstChild(item, 'Meta');
  if (meta) out.meta = parseMeta(meta);
  const data = firstChild(item, 'Data');
  if (data) out.data = dataOf(data);
  if (firstChild(item, 'MoreData')) out.moreData = true;
  return out;
}

// research/xml-parsers.md rule 10 / MS-MDM 2.2.5.1: text verbatim, or embedded markup kept.
function dataOf(data: XmlElement): string {
  return data.children.some((c) => typeof c !== 'string') ? markupOf(data) : textOf(data);
}

function itemsOf(el: XmlElement): SyncmlItem[] {
  return childElements(el)
    .filter((c) => c.name === 'Item')
    .map(parseItem);
}

function refsOf(el: XmlElement, name: 'TargetRef' | 'SourceRef'): string[] {
  return childElements(el)
    .filter((c) => c.name === name)
    .map(textOf);
}

const CONTAINER_HEADER = new Set(['CmdID', 'NoResp', 'Meta', 'Cred']);

function parseCommand(el: XmlElement): SyncmlCommand {
  const cmdId = optionalText(el, 'CmdID') ?? '';
  const noResp = firstChild(el, 'NoResp') ? { noResp: true } : {};
  switch (el.name) {
    case 'Add':
    case 'Copy':
    case 'Delete':
    case 'Exec':
    case 'Get':
    case 'Replace':
      return { kind: el.name, cmdId, ...noResp, ...metaOf(el), items: itemsOf(el) };
    case 'Alert': {
      const data = optionalText(el, 'Data');
      return {
        kind: 'Alert',
        cmdId,
        ...noResp,
        ...(data !== undefined && { data }),
        items: itemsOf(el),
      };
    }
    case 'Atomic':
    case 'Sequence': {
      const commands = childElements(el)
        .filter((c) => !CONTAINER_HEADER.has(c.name))
        .map(parseCommand);
      return { kind: el.name, cmdId, ...noResp, ...metaOf(el), commands };
    }
    case 'Results': {
      const msgRef = optionalText(el, 'MsgRef');
      const cmd = optionalText(el, 'Cmd');
      return {
        kind: 'Results',
        cmdId,
        ...(msgRef !== undefined && { msgRef }),
        cmdRef: optionalText(el, 'CmdRef') ?? '',
        ...(cmd !== undefined && { cmd }),
        ...metaOf(el),
        targetRef: refsOf(el, 'TargetRef'),
        sourceRef: refsOf(el, 'SourceRef'),
        items: itemsOf(el),
      };
    }
    case 'Status':
      return parseStatus(el, cmdId);
    default:
      return { kind: 'Unsupported', element: el.name, cmdId };
  }
}

function parseStatus(el: XmlElement, cmdId: string): SyncmlStatusCommand {
  const status: SyncmlStatusCommand = {
    kind: 'Status',
    cmdId,
    msgRef: optionalText(el, 'MsgRef') ?? '',
    cmdRef: optionalText(el, 'CmdRef') ?? '',
    cmd: optionalText(el, 'Cmd') ?? '',
    targetRef: refsOf(el, 'TargetRef'),
    sourceRef: refsOf(el, 'SourceRef'),
    data: '',
    items: itemsOf(el),
  };
  const chal = firstChild(el, 'Chal');
  if (chal) status.chal = metaOf(chal);
  const data = firstChild(el, 'Data');
  if (data) {
    status.data = textOf(data);
    // MS-MDM 2.2.5.1: msft:originalerror="0x…"; matched by local name like the Meta children.
    const attr = Object.values(data.attributes).find((a) => a.local === 'originalerror');
    if (attr) status.originalError = attr.value;
  }
  return status;
}
