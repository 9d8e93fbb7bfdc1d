import type { XmlParseErrorReason } from '../../common/xml';

export type SyncmlDecodeErrorReason =
  /** Refused or malformed XML; `xmlReason` says why (e.g. 'too-large', 'forbidden-markup'). */
  | 'invalid-xml'
  /** Root is not SyncML in SYNCML:SYNCML1.2 or SYNCML:SYNCML1.1. */
  | 'not-syncml'
  /** SyncHdr, SyncBody, a command or a required header field outside the SyncML namespace. */
  | 'foreign-namespace'
  /** A field a SyncML answer needs is missing or empty (management-session.md §6). */
  | 'missing-element'
  /** VerDTD is not 1.2 or VerProto is not DM/1.2. */
  | 'unsupported-version';

/** Any message the codec refuses: the endpoint answers 400 (413 for xmlReason 'too-large'). */
export class SyncmlDecodeError extends Error {
  override readonly name = 'SyncmlDecodeError';
  constructor(
    readonly reason: SyncmlDecodeErrorReason,
    message: string,
    readonly xmlReason?: XmlParseErrorReason,
  ) {
    super(message);
  }
}
