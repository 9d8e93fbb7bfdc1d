import { XmlElement, attrs, el } from '../../common/xml';
import {
  Action,
  BST_BASE64_ENCODING,
  BstValueType,
  Ns,
  RequestType,
  TokenType,
} from './namespaces';
import { WsSecurityCredential, readCredential } from './security';
import {
  AddressingHeader,
  BinaryToken,
  SoapRequestError,
  attributeOf,
  childrenOf,
  expectAction,
  optionalChild,
  readAddressing,
  readBinaryToken,
  readEnvelope,
  requiredChild,
  trimmedText,
  withMessageId,
} from './soap-request';
import { writeSoapResponse } from './soap-response';

export interface ContextItem {
  name: string;
  /** Trimmed: the docs sample sends OSEdition as " 4" (enrollment.md §5.1). */
  value: string;
}

/** MS-WSTEP RequestSecurityToken as Windows sends it (MS-MDE2 3.4.4.1.1.1.3). */
export interface RequestSecurityTokenRequest {
  header: AddressingHeader;
  credential: WsSecurityCredential;
  tokenType: string;
  /** …/Issue for enrollment, …/Renew for renewal: check before acting (§5.5 step 2). */
  requestType: string;
  /** The body token: a PKCS#10 (Issue) or PKCS#7 (Renew), base64 without whitespace. */
  token: BinaryToken;
  /** In document order; names repeat (MAC) and the set is open-ended. */
  additionalContext: ContextItem[];
}

export function parseRequestSecurityToken(input: Buffer | string): RequestSecurityTokenRequest {
  const envelope = readEnvelope(input);
  const header = readAddressing(envelope.header);
  expectAction(header, Action.RequestSecurityToken);
  return withMessageId(header.messageId, () => {
    const rst = envelope.payload;
    if (rst.name !== 'RequestSecurityToken' || rst.ns !== Ns.WsTrust) {
      throw new SoapRequestError('missing-element', `Body holds ${rst.name}, not an RST`);
    }
    const credential = readCredential(envelope.header);
    const tokenType = trimmedText(requiredChild(rst, Ns.WsTrust, 'TokenType')) ?? '';
    const requestType = trimmedText(requiredChild(rst, Ns.WsTrust, 'RequestType')) ?? '';
    const token = readBinaryToken(requiredChild(rst, Ns.WssSecext, 'BinarySecurityToken'));
    if (!token.base64) throw new SoapRequestError('invalid-value', 'BinarySecurityToken is empty');
    const context = optionalChild(rst, Ns.AdditionalContext, 'AdditionalContext');
    return {
      header,
      credential,
      tokenType,
      requestType,
      token,
      additionalContext: context ? readContextItems(context) : [],
    };
  });
}

function readContextItems(context: XmlElement): ContextItem[] {
  return childrenOf(context, Ns.AdditionalContext, 'ContextItem').map((item) => {
    const name = attributeOf(item, '', 'Name')?.trim();
    if (!name) throw new SoapRequestError('invalid-value', 'ContextItem without a Name');
    const value = optionalChild(item, Ns.AdditionalContext, 'Value');
    return { name, value: trimmedText(value) ?? '' };
  });
}

/** First value of a context item, e.g. `contextValue(req.additionalContext, 'DeviceID')`. */
export function contextValue(items: readonly ContextItem[], name: string): string | undefined {
  return items.find((i) => i.name === name)?.value;
}

export function contextValues(items: readonly ContextItem[], name: string): string[] {
  return items.filter((i) => i.name === name).map((i) => i.value);
}

/** True for a first enrollment: DeviceEnrollmentToken + Issue + a PKCS#10 token. */
export function isIssueRequest(req: RequestSecurityTokenRequest): boolean {
  return (
    req.tokenType === TokenType.DeviceEnrollment &&
    req.requestType === RequestType.Issue &&
    req.token.valueType === BstValueType.Pkcs10
  );
}

export interface RstrcInput {
  relatesTo: string;
  activityId?: string;
  /** The wap-provisioningdoc XML (provisioning-doc.ts); it is sent base64-encoded. */
  provisioningDocXml: string;
  /** Timestamp window: Created = now − 5 min, Expires = now + 5 min, as Fleet sends. */
  now: Date;
}

const TIMESTAMP_SKEW_MS = 5 * 60 * 1000;

/** MS-WSTEP RequestSecurityTokenResponseCollection carrying the provisioning doc (§5.6). */
export function buildRequestSecurityTokenResponse(input: RstrcInput): string {
  const created = new Date(input.now.getTime() - TIMESTAMP_SKEW_MS).toISOString();
  const expires = new Date(input.now.getTime() + TIMESTAMP_SKEW_MS).toISOString();
  const security = el(
    'o:Security',
    attrs({ 'xmlns:o': Ns.WssSecext, 's:mustUnderstand': '1' }),
    el('u:Timestamp', attrs({ 'u:Id': '_0' }), el('u:Created', created), el('u:Expires', expires)),
  );
  const response = el(
    'RequestSecurityTokenResponse',
    el('TokenType', TokenType.DeviceEnrollment),
    el('DispositionMessage', attrs({ xmlns: Ns.Enrollment })),
    el(
      'RequestedSecurityToken',
      el(
        'BinarySecurityToken',
        attrs({
          xmlns: Ns.WssSecext,
          ValueType: BstValueType.ProvisionDoc,
          EncodingType: BST_BASE64_ENCODING,
        }),
        Buffer.from(input.provisioningDocXml, 'utf8').toString('base64'),
      ),
    ),
    el('RequestID', attrs({ xmlns: Ns.Enrollment }), '0'),
  );
  return writeSoapResponse(
    {
      action: Action.RequestSecurityTokenResponse,
      relatesTo: input.relatesTo,
      activityId: input.activityId,
    },
    el('RequestSecurityTokenResponseCollection', attrs({ xmlns: Ns.WsTrust }), response),
    { envelopeNs: { u: Ns.WssUtility }, headerBlocks: [security] },
  );
}
