/**
 * Command lifecycle states and the SyncML status code → state name table
 * (protocol/management-session.md §4.2). The name is a view of the code: the raw
 * `statusCode` is always stored next to it.
 */
export const CommandStatus = {
  Pending: 'Pending',
  Awaiting: 'Awaiting',
  Cancel: 'Cancel',
  Unknown: 'Unknown',
  Acknowledged: 'Acknowledged',
  CommandFormatError: 'CommandFormatError',
  CommandNotFound: 'CommandNotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  NotSupported: 'NotSupported',
  UnexpectedError: 'UnexpectedError',
  ExpectedMessageNotReceivedInRequiredPeriodOfTime:
    'ExpectedMessageNotReceivedInRequiredPeriodOfTime',
  /** Set by the server (no device code): larger than any message the device accepts. */
  RequestItemTooLong: 'RequestItemTooLong',
} as const;

const NAMES: Record<number, string> = {
  200: 'Acknowledged',
  210: 'DeleteWithoutArchive',
  211: 'ItemNotDeleted',
  212: 'AuthenticationAccepted',
  214: 'OperationCanceled',
  215: 'CommandNotExecutedUserCanceled',
  216: 'CommandInsideAtomicElementAndAtomicFailed',
  300: 'RequestedTargetIsOneOfMultipleAlternativesRequestedTarget',
  301: 'RequestedTargetHasANewURI',
  302: 'RequestedTargetMovedToADifferentURI',
  303: 'RequestedTargetCanBeFoundAtAnotherURI',
  304: 'RequestedSyncMLCommandNotExecutedOnTarget',
  305: 'RequestedTargetMustBeAccessedThroughSpecifiedProxyURI',
  // 400: MalformedSyntax is accepted as an alias in filters; CommandFormatError is emitted.
  400: 'CommandFormatError',
  401: 'Unauthorized',
  402: 'PaymentIsNeeded',
  403: 'FailedByRecipientUnderstoodTheCommand',
  404: 'CommandNotFound',
  405: 'MethodNotAllowed',
  406: 'NotSupported',
  407: 'InvalidOriginatorAuthentication',
  408: 'ExpectedMessageNotReceivedInRequiredPeriodOfTime',
  409: 'UpdateConflictBetweenClientAndServerVersion',
  410: 'TargetNotLongerAvailable',
  411: 'CommandMustBeAccompaniedByByteSizeOrLength',
  412: 'IncompleteOrIncorrectFormed',
  413: 'RequestItemTooLong',
  414: 'TargetURIIsTooLong',
  415: 'UnsupportedMediaType',
  416: 'ByteSizeTooBig',
  417: 'RequestFailRetryAfterSomeTime',
  418: 'PutOrAddCommandFailedBecauseTargetAlreadyExists',
  419: 'ConflictDetectedResolvedServerCommandWinning',
  420: 'NoMoreStorageSpaceForRemainingSynchronizationData',
  421: 'SpecifiedSearchGrammarWasNotKnown',
  422: 'CGIScriptingInLocURIWasIncorrectlyFormed',
  423: 'SoftDeletedItemAlreadyHardDeleted',
  424: 'ChunkedObjectReceivedByIncorrectSizeDeclared',
  425: 'InvalidAdequateAccessControlPermissions',
  426: 'PartialItemNotAccepted',
  427: 'ParentCanNotBeDeletedSinceItContainsChildren',
  428: 'MoveFailed',
  500: 'UnexpectedError',
  501: 'CommandNotSupported',
  502: 'GatewayOrProxyError',
  503: 'TemporaryOverloadingOrMaintenanceError',
  504: 'GatewayOrProxyTimeout',
  505: 'InvalidSyncMLDTDVersion',
  506: 'ApplicationErrorWhileProcessingTheRequest',
  507: 'ErrorCausedAllSyncMKCommandsFail',
  508: 'ErrorARefreshSynchronizationIsNeeded',
  509: 'ReservedForFutureUse',
  510: 'ErrorInRecipientDataStore',
  511: 'SevereErrorInServer',
  512: 'ApplicationErrorDuringSynchronization',
  513: 'SyncMLSynchronizationVersionNotSupported',
  514: 'SyncMlCommandCanceled',
  515: 'Unknown',
  516: 'AtomicRollbackFailed',
  517: 'AtomicResponseTooLarge',
};

/** Codes after which a later, final status is still expected: the command stays Awaiting. */
export const NON_FINAL_CODES = new Set(['101', '213']);

/**
 * Interim answers: the device is still working (101), or accepted an Exec to run asynchronously
 * (202, MS-MDM 3.1.5.1.5; the outcome comes later as a 1224/1226 alert, management-session.md
 * §3.6). The command stays Awaiting, is never resent, and expires after
 * SYNCML_ASYNC_RESULT_TIMEOUT_SECONDS without a final answer. 202 for any other verb is final.
 */
export function isInterimCode(code: string, verb: string): boolean {
  return code === '101' || (code === '202' && verb === 'Exec');
}

/** The codes `isInterimCode` holds open, for store filters. */
export const INTERIM_CODES = ['101', '202'];

/** The state a Status moves a command of verb `verb` to. */
export function statusNameFor(code: string, verb: string): string {
  return isInterimCode(code, verb) ? CommandStatus.Awaiting : statusNameForCode(code);
}

/** Maps a device's SyncML status code to the command's state name. */
export function statusNameForCode(code: string): string {
  if (!/^\d{3}$/.test(code)) return CommandStatus.Unknown;
  if (NON_FINAL_CODES.has(code)) return CommandStatus.Awaiting;
  const n = Number(code);
  if (NAMES[n]) return NAMES[n];
  // 201–209: success variants with no dedicated name (statusCode keeps the detail).
  if (n >= 201 && n <= 209) return CommandStatus.Acknowledged;
  return CommandStatus.Unknown;
}

/** Every state name a command can have (filters accept these, plus the MalformedSyntax alias). */
export const ALL_COMMAND_STATUSES: string[] = [
  ...new Set([
    CommandStatus.Pending,
    CommandStatus.Awaiting,
    CommandStatus.Cancel,
    CommandStatus.Unknown,
    ...Object.values(NAMES),
  ]),
];

export function isFinalStatus(status: string): boolean {
  return status !== CommandStatus.Pending && status !== CommandStatus.Awaiting;
}
