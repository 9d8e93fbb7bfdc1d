import { XmlNode, attrs, el, writeXml } from '../../common/xml';
import { Ns } from './namespaces';

export interface ResponseHeaderInput {
  /** The response action of the step (…/DiscoverResponse, …/GetPoliciesResponse, …/RSTRC/wstep). */
  action: string;
  /** The request's MessageID, verbatim; omitted only when the request had none we could read. */
  relatesTo?: string;
  /** Optional correlation id (a GUID) shown in Windows' logs; Fleet and the PoC send one. */
  activityId?: string;
}

export interface EnvelopeOptions {
  /** Extra namespace declarations on s:Envelope, e.g. `u` for the RSTRC timestamp. */
  envelopeNs?: Readonly<Record<string, string>>;
  /** Extra header blocks after a:RelatesTo (the RSTRC's o:Security). */
  headerBlocks?: readonly XmlNode[];
  /** Declare xsi/xsd on s:Body, as the XCEP response needs for xsi:nil. */
  bodySchemaNs?: boolean;
}

/**
 * SOAP 1.2 response envelope with the WS-Addressing header Windows expects (enrollment.md §3.3,
 * §4.2, §5.6): no XML declaration, a:Action with s:mustUnderstand="1", a:RelatesTo.
 */
export function writeSoapResponse(
  header: ResponseHeaderInput,
  payload: XmlNode,
  options: EnvelopeOptions = {},
): string {
  const envelopeNs: Record<string, string> = { 'xmlns:s': Ns.Soap12, 'xmlns:a': Ns.Addressing };
  for (const [prefix, uri] of Object.entries(options.envelopeNs ?? {})) {
    envelopeNs[`xmlns:${prefix}`] = uri;
  }
  const envelope = el(
    's:Envelope',
    attrs(envelopeNs),
    el(
      's:Header',
      el('a:Action', attrs({ 's:mustUnderstand': '1' }), header.action),
      header.activityId !== undefined &&
        el(
          'ActivityId',
          attrs({ xmlns: Ns.Diagnostics, CorrelationId: header.activityId }),
          header.activityId,
        ),
      header.relatesTo !== undefined && el('a:RelatesTo', header.relatesTo),
      options.headerBlocks ?? [],
    ),
    el(
      's:Body',
      options.bodySchemaNs && attrs({ 'xmlns:xsi': Ns.Xsi, 'xmlns:xsd': Ns.Xsd }),
      payload,
    ),
  );
  return writeXml(envelope, { headless: true });
}

/** `<name xsi:nil="true"/>`; xsi must be declared on an ancestor. */
export function nil(name: string): XmlNode {
  return el(name, attrs({ 'xsi:nil': 'true' }));
}
