import { X509Certificate, createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { ENROLLMENT_SERVICE_PATH, SOAP_CONTENT_TYPE } from '../../src/common/device-protocol';
import { DerTag, children, expectTag, raw, readRoot } from '../../src/pki/der';
import {
  ENROLL_USER_AGENT,
  EnrollmentFaultError,
  createDeviceCsr,
  generateDeviceKey,
  type EnrollmentResult,
} from './enroll';
import {
  newMessageId,
  readEnrollmentResponse,
  readFault,
  renewRequest,
  windowsContext,
} from './enroll-messages';
import { SimulatorError } from './simulator-error';
import { DeviceTransport } from './transport';
import type { DeviceIdentity, Exchange, TlsTrust } from './types';

/**
 * Certificate renewal as Windows does it (MS-MDE2 3.4.4.1.1.1.4, enrollment.md §9): a new key,
 * its PKCS#10 wrapped in a CMS SignedData signed with the current certificate's key, posted to
 * the enrollment service with RequestType Renew. `tls` presents the current certificate in the
 * TLS handshake (ROBO); `pkcs7` leaves the handshake anonymous, so only the signature proves it.
 */

export interface RenewOptions extends TlsTrust {
  /** Server origin; the request goes to its enrollment service (no WSTEP/Renew/ServerURL). */
  server: string;
  /** The current certificate and key: they sign the request (and open TLS with `via: 'tls'`). */
  identity: DeviceIdentity;
  via: 'tls' | 'pkcs7';
  /** The DeviceID the request claims (CSR CN, extension, AdditionalContext); default the identity's. */
  claimDeviceId?: string;
  keyPair?: { publicKey: KeyObject; privateKey: KeyObject };
  timeoutMs?: number;
}

export type RenewalResult = Omit<EnrollmentResult, 'exchanges'> & { exchange: Exchange };

export async function renewDevice(opts: RenewOptions): Promise<RenewalResult> {
  const deviceId = opts.claimDeviceId ?? opts.identity.deviceId;
  const keyPair = opts.keyPair ?? (await generateDeviceKey());
  const csr = Buffer.from(await createDeviceCsr(deviceId, keyPair), 'base64');
  const pkcs7 = signRenewalRequest(csr, opts.identity);
  const url = `${new URL(opts.server).origin}${ENROLLMENT_SERVICE_PATH}`;
  const messageId = newMessageId();
  const transport = new DeviceTransport({
    ca: opts.ca,
    insecure: opts.insecure,
    ...(opts.via === 'tls' && { cert: opts.identity.cert, key: opts.identity.key }),
    userAgent: ENROLL_USER_AGENT,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  try {
    const context = windowsContext(deviceId, {
      hwDevId: createHash('sha256').update(deviceId).digest('hex').toUpperCase(),
      deviceName: `SIM-${deviceId.slice(0, 8)}`,
    });
    const body = renewRequest({
      messageId,
      to: url,
      pkcs7Base64: pkcs7.toString('base64'),
      context,
    });
    const ex = await transport.post(url, body, SOAP_CONTENT_TYPE);
    const fault = readFault(ex.responseBody);
    if (fault) throw new EnrollmentFaultError('enrollment', fault, ex);
    if (ex.status !== 200) throw new SimulatorError('http', `renewal: HTTP ${ex.status}`, ex);
    const answer = readEnrollmentResponse(ex.responseBody);
    if (answer.relatesTo !== messageId) {
      throw new SimulatorError(
        'protocol',
        `renewal: the answer does not relate to ${messageId}`,
        ex,
      );
    }
    const issued = new X509Certificate(answer.clientCertDer);
    if (!issued.publicKey.equals(keyPair.publicKey)) {
      throw new SimulatorError('protocol', 'the renewed certificate is not for the key of the CSR');
    }
    return {
      identity: {
        deviceId: opts.identity.deviceId,
        cert: issued.toString(),
        key: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      },
      caCertPem: new X509Certificate(answer.caCertDer).toString(),
      caThumbprint: answer.caThumbprint,
      clientThumbprint: answer.clientThumbprint,
      managementUrl: answer.managementUrl,
      providerId: answer.providerId,
      provisioningDoc: answer.provisioningDoc,
      exchange: ex,
    };
  } finally {
    transport.close();
  }
}

const OID = {
  signedData: '06092a864886f70d010702',
  data: '06092a864886f70d010701',
  contentType: '06092a864886f70d010903',
  messageDigest: '06092a864886f70d010904',
  sha256: '0609608648016503040201',
  rsaEncryption: '06092a864886f70d010101',
} as const;

/** DER TLV with a definite length (X.690 8.1.3). */
function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : n < 0x10000
          ? Buffer.from([0x82, n >> 8, n & 0xff])
          : Buffer.from([0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const hex = (h: string) => Buffer.from(h, 'hex');
const seq = (...p: Buffer[]) => tlv(DerTag.Sequence, ...p);
const algId = (oid: string) => seq(hex(oid), hex('0500'));

/**
 * CMS SignedData (RFC 5652) over the PKCS#10, like IX509CertificateRequestPkcs7: id-data content,
 * the signer's certificate included, issuerAndSerialNumber, signed content-type and digest
 * attributes, SHA-256 with RSA.
 */
export function signRenewalRequest(csrDer: Buffer, signer: { cert: string; key: string }): Buffer {
  const certDer = new X509Certificate(signer.cert).raw;
  const tbs = children(
    certDer,
    expectTag(children(certDer, readRoot(certDer))[0], DerTag.Sequence, 'tbs'),
  );
  const at = tbs[0].tag === DerTag.ContextConstructed0 ? 1 : 0;
  const serial = raw(certDer, tbs[at]);
  const issuer = raw(certDer, tbs[at + 2]);
  const digest = createHash('sha256').update(csrDer).digest();
  // SET OF in DER order: the shorter content-type attribute sorts first.
  const attributes = [
    seq(hex(OID.contentType), tlv(DerTag.Set, hex(OID.data))),
    seq(hex(OID.messageDigest), tlv(DerTag.Set, tlv(DerTag.OctetString, digest))),
  ];
  const signedAttrs = tlv(DerTag.Set, ...attributes);
  const signature = sign('sha256', signedAttrs, createPrivateKey(signer.key));
  const signerInfo = seq(
    hex('020101'),
    seq(issuer, serial),
    algId(OID.sha256),
    tlv(DerTag.ContextConstructed0, ...attributes),
    algId(OID.rsaEncryption),
    tlv(DerTag.OctetString, signature),
  );
  const signedData = seq(
    hex('020101'),
    tlv(DerTag.Set, algId(OID.sha256)),
    seq(hex(OID.data), tlv(DerTag.ContextConstructed0, tlv(DerTag.OctetString, csrDer))),
    tlv(DerTag.ContextConstructed0, certDer),
    tlv(DerTag.Set, signerInfo),
  );
  return seq(hex(OID.signedData), tlv(DerTag.ContextConstructed0, signedData));
}
