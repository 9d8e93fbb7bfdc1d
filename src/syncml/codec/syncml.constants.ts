import type { SyncmlMeta } from './syncml.types';

// MS-MDM 2.2.4.1: root namespace; some Microsoft CSP samples still use 1.1, accepted on input only.
export const SyncmlNamespace = {
  V12: 'SYNCML:SYNCML1.2',
  V11: 'SYNCML:SYNCML1.1',
} as const;

export const ACCEPTED_SYNCML_NAMESPACES: readonly string[] = [
  SyncmlNamespace.V12,
  SyncmlNamespace.V11,
];

// MS-MDM 2.2.5.3: Meta children live in syncml:metinf (matched by local name on input).
export const METINF_NS = 'syncml:metinf';

// MetInf DTD order: Format, Type, Mark, Size, …, NextNonce, MaxMsgSize, MaxObjSize.
export const META_ORDER: readonly [keyof SyncmlMeta, string][] = [
  ['format', 'Format'],
  ['type', 'Type'],
  ['mark', 'Mark'],
  ['size', 'Size'],
  ['nextNonce', 'NextNonce'],
  ['maxMsgSize', 'MaxMsgSize'],
  ['maxObjSize', 'MaxObjSize'],
];

// MS-MDM 2.2.4.3 / 2.2.5.1: msft:originalerror on a Status Data (SyncApplicationVersion >= 3.0).
export const MSFT_NS = 'http://schemas.microsoft.com/MobileDevice/MDM';

// MS-MDM 2.2.3.13 / 2.2.3.14.
export const SyncmlVersion = {
  VerDTD: '1.2',
  VerProto: 'DM/1.2',
} as const;

// MS-MDM 2.2.6.1: CmdRef 0 with Cmd SyncHdr answers the header of message MsgRef.
export const SYNCHDR_CMD = 'SyncHdr';
export const SYNCHDR_CMD_REF = '0';

// MS-MDM 2.2.7.2 and OMA-DM Protocol 1.2 §8.7 (management-session.md §3.6).
export const AlertCode = {
  ServerInitiatedMgmt: '1200',
  ClientInitiatedMgmt: '1201',
  NextMessage: '1222',
  SessionAbort: '1223',
  ClientEvent: '1224',
  NoEndOfData: '1225',
  GenericAlert: '1226',
} as const;
export type AlertCode = (typeof AlertCode)[keyof typeof AlertCode];

// Item/Meta/Type values of Windows alerts (management-session.md §3.2, §3.6).
export const AlertType = {
  // Disconnecting from MDM (unenrollment): generic alert 1226, Format int, Data 1.
  UserUnenrollment: 'com.microsoft:mdm.unenrollment.userrequest',
  LoginStatus: 'com.microsoft/MDM/LoginStatus',
  SyncType: 'com.microsoft.mdm.synctype',
  DevicePrepSync: 'com.microsoft/MDM/DevicePrepSync',
  AadUserToken: 'com.microsoft/MDM/AADUserToken',
  // DMClient EnableOmaDmKeepAliveMessage: 1224 keep-alive while the device is still working.
  RequestPending: 'Reversed-Domain-Name:com.microsoft.mdm.requestpending',
} as const;

// OMA SyncML RepPro 1.2.2 §10 (management-session.md §4.1); values stay strings as on the wire.
export const SyncmlStatus = {
  InProgress: '101',
  Ok: '200',
  ItemAdded: '201',
  Accepted: '202',
  NoContent: '204',
  AuthenticationAccepted: '212',
  ChunkedItemAccepted: '213',
  OperationCancelled: '214',
  NotExecuted: '215',
  AtomicRollbackOk: '216',
  BadRequest: '400',
  InvalidCredentials: '401',
  Forbidden: '403',
  NotFound: '404',
  CommandNotAllowed: '405',
  OptionalFeatureNotSupported: '406',
  MissingCredentials: '407',
  RequestTimeout: '408',
  IncompleteCommand: '412',
  RequestEntityTooLarge: '413',
  UnsupportedMediaType: '415',
  RequestedSizeTooBig: '416',
  RetryLater: '417',
  AlreadyExists: '418',
  DeviceFull: '420',
  SizeMismatch: '424',
  PermissionDenied: '425',
  CommandFailed: '500',
  CommandNotImplemented: '501',
  ServiceUnavailable: '503',
  DtdVersionNotSupported: '505',
  ProcessingError: '506',
  AtomicFailed: '507',
  ProtocolVersionNotSupported: '513',
  CancelledBeforeProcessing: '514',
  AtomicRollbackFailed: '516',
  AtomicResponseTooLarge: '517',
} as const;
export type SyncmlStatusCode = (typeof SyncmlStatus)[keyof typeof SyncmlStatus];

// OMA-DM TND 1.2.1 Format values (management-session.md §5.1).
export const MetaFormat = {
  B64: 'b64',
  Bin: 'bin',
  Bool: 'bool',
  Chr: 'chr',
  Int: 'int',
  Node: 'node',
  Null: 'null',
  Xml: 'xml',
  Date: 'date',
  Time: 'time',
  Float: 'float',
} as const;

// MS-MDM 2.2.3.1 / OMA-PS: the SyncBody commands a Windows session can carry.
export const SYNCML_COMMANDS = [
  'Add',
  'Alert',
  'Atomic',
  'Copy',
  'Delete',
  'Exec',
  'Get',
  'Replace',
  'Results',
  'Sequence',
  'Status',
] as const;
export type SyncmlCommandName = (typeof SYNCML_COMMANDS)[number];
