// Every protocol value stays a string (research/xml-parsers.md rule 9): SessionID `0012` goes
// back as `0012`, CmdIDs need not be numeric (MS-MDM 2.2.3.2).

/** MS-MDM 2.2.5.3 Meta children (syncml:metinf), matched by local name on input. */
export interface SyncmlMeta {
  format?: string;
  type?: string;
  mark?: string;
  size?: string;
  nextNonce?: string;
  maxMsgSize?: string;
  maxObjSize?: string;
}

/** MS-MDM 2.2.5.2: Target?, Source?, Meta?, Data?, MoreData?. */
export interface SyncmlItem {
  /** Target/LocURI. */
  target?: string;
  /** Source/LocURI. */
  source?: string;
  meta?: SyncmlMeta;
  /**
   * Verbatim character data (text and CDATA, decoded, untrimmed). When the device embeds markup
   * instead (MS-MDM 2.2.5.1), the markup re-serialized as equivalent XML text.
   */
  data?: string;
  /** OMA-DM 1.2 §7: the item continues in the next message (large object). */
  moreData?: boolean;
}

export interface SyncmlCred {
  meta?: SyncmlMeta;
  data: string;
}

/** MS-MDM 2.2.4.2 / RepPro: VerDTD, VerProto, SessionID, MsgID, Target, Source, …, Cred?, Meta?. */
export interface SyncmlHeader {
  verDTD: string;
  verProto: string;
  sessionId: string;
  msgId: string;
  /** Target/LocURI ('' if the sender left it out). */
  target: string;
  /** Source/LocURI. */
  source: string;
  respUri?: string;
  noResp?: boolean;
  cred?: SyncmlCred;
  meta?: SyncmlMeta;
}

interface ItemCommand<K extends string> {
  kind: K;
  cmdId: string;
  noResp?: boolean;
  meta?: SyncmlMeta;
  items: SyncmlItem[];
}

export type SyncmlAddCommand = ItemCommand<'Add'>;
export type SyncmlCopyCommand = ItemCommand<'Copy'>;
export type SyncmlDeleteCommand = ItemCommand<'Delete'>;
/** MS-MDM 2.2.7.5: exactly one Item (not enforced on input). */
export type SyncmlExecCommand = ItemCommand<'Exec'>;
export type SyncmlGetCommand = ItemCommand<'Get'>;
export type SyncmlReplaceCommand = ItemCommand<'Replace'>;

/** MS-MDM 2.2.7.2: CmdID, Data (the alert code), Item*. */
export interface SyncmlAlertCommand {
  kind: 'Alert';
  cmdId: string;
  noResp?: boolean;
  /** The alert code (AlertCode); absent only in a malformed Alert. */
  data?: string;
  items: SyncmlItem[];
}

/** MS-MDM 2.2.7.8: MsgRef missing means `1`; Cmd is optional on input (WIPLOG samples omit it). */
export interface SyncmlResultsCommand {
  kind: 'Results';
  cmdId: string;
  msgRef?: string;
  cmdRef: string;
  cmd?: string;
  meta?: SyncmlMeta;
  targetRef: string[];
  sourceRef: string[];
  items: SyncmlItem[];
}

/** MS-MDM 2.2.6.1: CmdID, MsgRef, CmdRef, Cmd, TargetRef*, SourceRef*, Chal?, Data, Item*. */
export interface SyncmlStatusCommand {
  kind: 'Status';
  cmdId: string;
  msgRef: string;
  cmdRef: string;
  cmd: string;
  targetRef: string[];
  sourceRef: string[];
  chal?: { meta?: SyncmlMeta };
  /** The status code (see SyncmlStatus), as written. */
  data: string;
  /** MS-MDM 2.2.5.1: `msft:originalerror` HRESULT on Data, kept for diagnostics. */
  originalError?: string;
  items: SyncmlItem[];
}

/** MS-MDM 2.2.7.3 Atomic; OMA-PS Sequence: nested commands in document order. */
export interface SyncmlContainerCommand<K extends 'Atomic' | 'Sequence'> {
  kind: K;
  cmdId: string;
  noResp?: boolean;
  meta?: SyncmlMeta;
  commands: SyncmlCommand[];
}
export type SyncmlAtomicCommand = SyncmlContainerCommand<'Atomic'>;
export type SyncmlSequenceCommand = SyncmlContainerCommand<'Sequence'>;

/**
 * An element under SyncBody, Atomic or Sequence that is not a command Windows uses (Put, Map,
 * Sync…). Kept in place so the session can answer it with a Status (OMA-PS: 400 for such
 * elements) instead of refusing the whole message. Never built.
 */
export interface SyncmlUnsupportedCommand {
  kind: 'Unsupported';
  element: string;
  cmdId: string;
}

export type SyncmlCommand =
  | SyncmlAddCommand
  | SyncmlAlertCommand
  | SyncmlAtomicCommand
  | SyncmlCopyCommand
  | SyncmlDeleteCommand
  | SyncmlExecCommand
  | SyncmlGetCommand
  | SyncmlReplaceCommand
  | SyncmlResultsCommand
  | SyncmlSequenceCommand
  | SyncmlStatusCommand
  | SyncmlUnsupportedCommand;

export type SyncmlBuildableCommand = Exclude<SyncmlCommand, SyncmlUnsupportedCommand>;

export interface SyncmlMessage<C extends SyncmlCommand = SyncmlCommand> {
  header: SyncmlHeader;
  /** SyncBody commands in exact document order (MS-MDM 2.2.6.1: Statuses follow this order). */
  commands: C[];
  /** MS-MDM 2.2.3.4: `<Final/>` closes the package. */
  final: boolean;
}
