import {
  X509Certificate,
  createHash,
  timingSafeEqual,
  verify as verifySignature,
} from 'node:crypto';
import {
  DerError,
  DerNode,
  DerTag,
  children,
  content,
  decodeOid,
  expectTag,
  raw,
  readRoot,
} from './der';
import { thumbprintOf } from './pem';

/**
 * CMS SignedData (RFC 5652 §5) as Windows sends it for a certificate renewal (MS-MDE2 3.4.4.1.1.1.4:
 * BinarySecurityToken ValueType `…#PKCS7`): the new PKCS#10 as the encapsulated content, signed
 * with the key of the certificate being renewed, that certificate in `certificates`. Parsed with
 * the DER reader because the signature covers the original encoding of the signed attributes.
 */

export const Pkcs7Oid = {
  SignedData: '1.2.840.113549.1.7.2',
  Data: '1.2.840.113549.1.7.1',
  ContentType: '1.2.840.113549.1.9.3',
  MessageDigest: '1.2.840.113549.1.9.4',
} as const;

const DIGESTS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** RSASSA-PKCS1-v1_5 only; rsaEncryption means "the digest algorithm's hash" (RFC 3370 3.2). */
const RSA_SIGNATURES: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.1': null,
  '1.3.14.3.2.29': 'sha1',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

/** A renewal request is a CSR plus one or two certificates: 64 KB is the SOAP body cap anyway. */
export const MAX_PKCS7_BYTES = 48 * 1024;

export type Pkcs7ErrorReason = 'malformed' | 'unsupported' | 'bad-signature' | 'no-signer';

export class Pkcs7Error extends Error {
  override readonly name = 'Pkcs7Error';
  constructor(
    readonly reason: Pkcs7ErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface Pkcs7Signer {
  certificate: X509Certificate;
  /** SHA-1 of the signer certificate's DER, upper-case hex. */
  thumbprint: string;
}

export interface SignedRequest {
  /** The encapsulated content: the DER PKCS#10 of the renewal. */
  content: Buffer;
  /** The certificate whose key signed the content; absent when the SignedData has no signer. */
  signer?: Pkcs7Signer;
}

/**
 * Parses the SignedData and verifies its one signature with the signer certificate it carries.
 * Who that certificate belongs to (our CA, a device, its validity) is the caller's question.
 */
export function readSignedRequest(derOrBase64: Buffer | string): SignedRequest {
  const der =
    typeof derOrBase64 === 'string'
      ? Buffer.from(derOrBase64.replace(/\s+/g, ''), 'base64')
      : derOrBase64;
  if (der.length === 0 || der.length > MAX_PKCS7_BYTES) {
    throw new Pkcs7Error('malformed', `PKCS#7 size ${der.length} is outside 1..${MAX_PKCS7_BYTES}`);
  }
  let parts: SignedDataParts;
  try {
    parts = readStructure(der);
  } catch (err) {
    if (err instanceof DerError) throw new Pkcs7Error('malformed', `PKCS#7: ${err.message}`);
    throw err;
  }
  if (parts.contentType !== Pkcs7Oid.Data) {
    throw new Pkcs7Error('unsupported', `encapsulated content ${parts.contentType} is not data`);
  }
  if (parts.signers.length === 0) return { content: parts.content };
  if (parts.signers.length > 1) throw new Pkcs7Error('unsupported', 'more than one signer');
  const info = parts.signers[0];
  const certificate = parts.certificates.find((c) => matchesSid(c, info.sid));
  if (!certificate) {
    throw new Pkcs7Error('no-signer', 'the signer certificate is not in the SignedData');
  }
  verifySignerInfo(info, parts);
  const cert = certificate.x509;
  verifyWith(info, parts.content, cert);
  return {
    content: parts.content,
    signer: { certificate: cert, thumbprint: thumbprintOf(cert.raw) },
  };
}

interface CertificateEntry {
  x509: X509Certificate;
  issuer: Buffer;
  serial: Buffer;
}

type Sid = { kind: 'issuer-serial'; issuer: Buffer; serial: Buffer } | { kind: 'ski'; ski: Buffer };

interface SignerInfoParts {
  sid: Sid;
  digest: string;
  /** The signed attributes re-tagged as SET OF (RFC 5652 5.4), when present. */
  signedAttrs?: Buffer;
  messageDigest?: Buffer;
  contentTypeAttr?: string;
  signatureHash: string | null;
  signature: Buffer;
}

interface SignedDataParts {
  contentType: string;
  content: Buffer;
  certificates: CertificateEntry[];
  signers: SignerInfoParts[];
}

function readStructure(der: Buffer): SignedDataParts {
  const root = expectTag(readRoot(der), DerTag.Sequence, 'ContentInfo');
  const [typeNode, explicit] = children(der, root);
  if (oid(der, typeNode) !== Pkcs7Oid.SignedData) throw new DerError('not a SignedData');
  const signedData = expectTag(
    children(der, expectTag(explicit, DerTag.ContextConstructed0, '[0] content'))[0],
    DerTag.Sequence,
    'SignedData',
  );
  const fields = children(der, signedData);
  expectTag(fields[0], DerTag.Integer, 'version');
  expectTag(fields[1], DerTag.Set, 'digestAlgorithms');
  const encap = children(der, expectTag(fields[2], DerTag.Sequence, 'EncapsulatedContentInfo'));
  const contentType = oid(der, encap[0]);
  if (!encap[1]) throw new DerError('detached content is not a renewal request');
  const octets = expectTag(
    children(der, expectTag(encap[1], DerTag.ContextConstructed0, '[0] eContent'))[0],
    DerTag.OctetString,
    'eContent OCTET STRING',
  );
  let i = 3;
  const certificates: CertificateEntry[] = [];
  if (fields[i]?.tag === DerTag.ContextConstructed0) {
    for (const c of children(der, fields[i])) {
      if (c.tag === DerTag.Sequence) certificates.push(readCertificate(der, c));
    }
    i++;
  }
  if (fields[i]?.tag === 0xa1) i++; // crls
  const signerSet = expectTag(fields[i], DerTag.Set, 'signerInfos');
  if (fields[i + 1]) throw new DerError('unexpected element after signerInfos');
  return {
    contentType,
    content: Buffer.from(content(der, octets)),
    certificates,
    signers: children(der, signerSet).map((s) => readSignerInfo(der, s)),
  };
}

function readCertificate(der: Buffer, node: DerNode): CertificateEntry {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(raw(der, node));
  } catch {
    throw new DerError('a certificate in the SignedData cannot be read');
  }
  const tbs = children(der, expectTag(children(der, node)[0], DerTag.Sequence, 'tbsCertificate'));
  const at = tbs[0]?.tag === DerTag.ContextConstructed0 ? 1 : 0;
  return {
    x509,
    serial: integerBytes(content(der, expectTag(tbs[at], DerTag.Integer, 'serialNumber'))),
    issuer: Buffer.from(raw(der, expectTag(tbs[at + 2], DerTag.Sequence, 'issuer'))),
  };
}

function readSignerInfo(der: Buffer, node: DerNode): SignerInfoParts {
  const f = children(der, expectTag(node, DerTag.Sequence, 'SignerInfo'));
  expectTag(f[0], DerTag.Integer, 'version');
  let sid: Sid;
  if (f[1]?.tag === DerTag.Sequence) {
    const [issuer, serial] = children(der, f[1]);
    sid = {
      kind: 'issuer-serial',
      issuer: Buffer.from(raw(der, expectTag(issuer, DerTag.Sequence, 'issuer'))),
      serial: integerBytes(content(der, expectTag(serial, DerTag.Integer, 'serial'))),
    };
  } else if (f[1]?.tag === 0x80) {
    sid = { kind: 'ski', ski: Buffer.from(content(der, f[1])) };
  } else {
    throw new DerError('expected a SignerIdentifier');
  }
  const digestOid = algorithm(der, f[2]);
  const digest = DIGESTS[digestOid];
  if (!digest) throw new Pkcs7Error('unsupported', `digest algorithm ${digestOid}`);
  let i = 3;
  let signedAttrs: Buffer | undefined;
  let messageDigest: Buffer | undefined;
  let contentTypeAttr: string | undefined;
  if (f[i]?.tag === DerTag.ContextConstructed0) {
    // RFC 5652 5.4: the signature covers the attributes' DER with the SET OF tag, not [0].
    signedAttrs = Buffer.from(raw(der, f[i]));
    signedAttrs[0] = DerTag.Set;
    for (const attr of children(der, f[i])) {
      const [typeNode, values] = children(der, expectTag(attr, DerTag.Sequence, 'Attribute'));
      const type = oid(der, typeNode);
      const first = children(der, expectTag(values, DerTag.Set, 'values'))[0];
      if (type === Pkcs7Oid.MessageDigest) {
        messageDigest = Buffer.from(content(der, expectTag(first, DerTag.OctetString, 'digest')));
      } else if (type === Pkcs7Oid.ContentType) {
        contentTypeAttr = oid(der, first);
      }
    }
    i++;
  }
  const sigOid = algorithm(der, f[i]);
  if (!(sigOid in RSA_SIGNATURES)) {
    throw new Pkcs7Error('unsupported', `signature algorithm ${sigOid} is not RSA`);
  }
  const signature = content(der, expectTag(f[i + 1], DerTag.OctetString, 'signature'));
  return {
    sid,
    digest,
    signedAttrs,
    messageDigest,
    contentTypeAttr,
    signatureHash: RSA_SIGNATURES[sigOid],
    signature: Buffer.from(signature),
  };
}

function verifySignerInfo(info: SignerInfoParts, parts: SignedDataParts): void {
  if (!info.signedAttrs) return;
  // RFC 5652 5.3: with signed attributes, content-type and message-digest must be among them.
  if (info.contentTypeAttr !== parts.contentType || !info.messageDigest) {
    throw new Pkcs7Error('malformed', 'signed attributes lack the content type or digest');
  }
  const digest = createHash(info.digest).update(parts.content).digest();
  if (digest.length !== info.messageDigest.length || !timingSafeEqual(digest, info.messageDigest)) {
    throw new Pkcs7Error('bad-signature', 'the message digest does not match the content');
  }
}

/** RFC 5652 5.4: over the signed attributes when present, else over the content itself. */
function verifyWith(info: SignerInfoParts, signedContent: Buffer, cert: X509Certificate): void {
  let valid = false;
  try {
    valid = verifySignature(
      info.signatureHash ?? info.digest,
      info.signedAttrs ?? signedContent,
      cert.publicKey,
      info.signature,
    );
  } catch {
    valid = false;
  }
  if (!valid) throw new Pkcs7Error('bad-signature', 'the PKCS#7 signature does not verify');
}

function matchesSid(c: CertificateEntry, sid: Sid): boolean {
  if (sid.kind === 'issuer-serial')
    return c.serial.equals(sid.serial) && c.issuer.equals(sid.issuer);
  return subjectKeyId(c.x509)?.equals(sid.ski) ?? false;
}

/** The SKI extension's key identifier (OID 2.5.29.14), read from the raw certificate. */
function subjectKeyId(cert: X509Certificate): Buffer | undefined {
  const der = cert.raw;
  try {
    const tbs = children(der, children(der, readRoot(der))[0]);
    const ext = tbs.find((n) => n.tag === 0xa3);
    if (!ext) return undefined;
    for (const e of children(der, children(der, ext)[0])) {
      const parts = children(der, e);
      if (oid(der, parts[0]) !== '2.5.29.14') continue;
      const value = content(der, parts[parts.length - 1]);
      const inner = readRoot(Buffer.from(value));
      return Buffer.from(content(Buffer.from(value), inner));
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function oid(der: Buffer, node: DerNode | undefined): string {
  return decodeOid(content(der, expectTag(node, DerTag.Oid, 'OID')));
}

function algorithm(der: Buffer, node: DerNode | undefined): string {
  return oid(der, children(der, expectTag(node, DerTag.Sequence, 'AlgorithmIdentifier'))[0]);
}

/** INTEGER content without its sign-padding zero, for comparing serial numbers. */
function integerBytes(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return Buffer.from(bytes.subarray(i));
}
