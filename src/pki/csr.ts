import { createPublicKey, KeyObject, verify as verifySignature } from 'node:crypto';
import {
  DerError,
  DerNode,
  DerTag,
  children,
  content,
  decodeOid,
  decodeString,
  expectTag,
  raw,
  readRoot,
} from './der';
import { MIN_RSA_BITS } from './x509';

/**
 * PKCS#10 (RFC 2986) parsing and proof-of-possession check. The signature is verified with
 * node:crypto over the original certificationRequestInfo bytes because Windows signs with the
 * OIW sha1RSA identifier that @peculiar/x509 and pkijs refuse (enrollment.md §6.1, §6.2).
 */

export const CsrOid = {
  ExtensionRequest: '1.2.840.113549.1.9.14',
  /** Microsoft DeviceID extension: OCTET STRING holding the ASCII DeviceID + NUL, no inner ASN.1. */
  DeviceId: '1.3.6.1.4.1.311.66.1.0',
  RsaEncryption: '1.2.840.113549.1.1.1',
} as const;

/** Signature algorithm OID → hash; RSASSA-PKCS1-v1_5 only (RFC 8017 A.2.4, RFC 3279 2.2.1). */
const SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.29': 'sha1', // OIW sha1WithRSASignature, what Windows sends
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'E',
};

/** A 16384-bit RSA CSR is about 4.4 KB of DER; anything much larger is not a device CSR. */
export const MAX_CSR_BYTES = 16 * 1024;
export const MAX_RSA_BITS = 8192;

export type CsrErrorReason = 'malformed' | 'bad-signature' | 'unsupported-algorithm' | 'weak-key';

export class CsrError extends Error {
  override readonly name = 'CsrError';
  constructor(
    readonly reason: CsrErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedCsr {
  /** Display form (`CN=…, O=…`, X.509 order); non-printable characters appear as `\XX`. */
  subject: string;
  /** First CN, decoded as sent (may contain NUL); untrusted, never copied into certificates. */
  commonName?: string;
  publicKey: KeyObject;
  publicKeySpkiDer: Buffer;
  keyBits: number;
  signatureAlgorithmOid: string;
  /** Value of extension 1.3.6.1.4.1.311.66.1.0 with trailing NULs removed. */
  deviceIdExtension?: string;
}

export function parseAndVerifyCsr(derOrBase64: Buffer | string): ParsedCsr {
  const der = typeof derOrBase64 === 'string' ? decodeBase64Csr(derOrBase64) : derOrBase64;
  if (der.length === 0 || der.length > MAX_CSR_BYTES) {
    throw new CsrError('malformed', `CSR size ${der.length} is outside 1..${MAX_CSR_BYTES} bytes`);
  }
  const parts = readStructure(der);

  const hash = SIGNATURE_HASHES[parts.signatureAlgorithmOid];
  if (!hash) {
    throw new CsrError(
      'unsupported-algorithm',
      `signature algorithm ${parts.signatureAlgorithmOid} is not supported`,
    );
  }

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: parts.spki, format: 'der', type: 'spki' });
  } catch {
    throw new CsrError('malformed', 'CSR public key cannot be read');
  }
  if (publicKey.asymmetricKeyType !== 'rsa') {
    throw new CsrError(
      'unsupported-algorithm',
      `public key type ${publicKey.asymmetricKeyType ?? 'unknown'} is not RSA`,
    );
  }
  const keyBits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (keyBits < MIN_RSA_BITS) {
    throw new CsrError('weak-key', `RSA key of ${keyBits} bits is below ${MIN_RSA_BITS}`);
  }
  if (keyBits > MAX_RSA_BITS) {
    throw new CsrError('unsupported-algorithm', `RSA key of ${keyBits} bits is too large`);
  }

  let valid = false;
  try {
    valid = verifySignature(hash, parts.tbs, publicKey, parts.signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new CsrError('bad-signature', 'CSR signature does not verify');

  return {
    subject: parts.subject,
    commonName: parts.commonName,
    publicKey,
    publicKeySpkiDer: Buffer.from(parts.spki),
    keyBits,
    signatureAlgorithmOid: parts.signatureAlgorithmOid,
    deviceIdExtension: parts.deviceIdExtension,
  };
}

/** Base64 with any whitespace or line breaks inside; PEM armour is tolerated too. */
export function decodeBase64Csr(text: string): Buffer {
  const body = text.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  if (body.length > Math.ceil(MAX_CSR_BYTES / 3) * 4) {
    throw new CsrError('malformed', 'CSR base64 is too long');
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) {
    throw new CsrError('malformed', 'CSR is not valid base64');
  }
  return Buffer.from(body, 'base64');
}

interface CsrParts {
  tbs: Buffer;
  spki: Buffer;
  subject: string;
  commonName?: string;
  signatureAlgorithmOid: string;
  signature: Buffer;
  deviceIdExtension?: string;
}

function readStructure(der: Buffer): CsrParts {
  try {
    const root = expectTag(readRoot(der), DerTag.Sequence, 'CertificationRequest');
    const [infoNode, algNode, sigNode, extra] = children(der, root);
    if (extra) throw new DerError('unexpected element after the signature');
    const info = expectTag(infoNode, DerTag.Sequence, 'certificationRequestInfo');
    const [version, subjectNode, spkiNode, attrsNode] = children(der, info);
    expectTag(version, DerTag.Integer, 'version');
    if (!content(der, version).equals(Buffer.from([0]))) throw new DerError('CSR version not 0');
    const alg = children(der, expectTag(algNode, DerTag.Sequence, 'signatureAlgorithm'));
    const bits = content(der, expectTag(sigNode, DerTag.BitString, 'signature'));
    if (bits.length < 2 || bits[0] !== 0) throw new DerError('signature BIT STRING is not octets');
    const { subject, commonName } = readName(der, expectTag(subjectNode, DerTag.Sequence, 'Name'));
    return {
      tbs: raw(der, info),
      spki: raw(der, expectTag(spkiNode, DerTag.Sequence, 'SubjectPublicKeyInfo')),
      subject,
      commonName,
      signatureAlgorithmOid: decodeOid(content(der, expectTag(alg[0], DerTag.Oid, 'OID'))),
      signature: bits.subarray(1),
      deviceIdExtension:
        attrsNode?.tag === DerTag.ContextConstructed0 ? readDeviceId(der, attrsNode) : undefined,
    };
  } catch (err) {
    if (err instanceof DerError)
      throw new CsrError('malformed', `CSR is malformed: ${err.message}`);
    throw err;
  }
}

function readName(der: Buffer, name: DerNode): { subject: string; commonName?: string } {
  const rendered: string[] = [];
  let commonName: string | undefined;
  for (const rdn of children(der, name)) {
    for (const atv of children(der, expectTag(rdn, DerTag.Set, 'RDN'))) {
      const [typeNode, valueNode] = children(der, expectTag(atv, DerTag.Sequence, 'ATV'));
      const oid = decodeOid(content(der, expectTag(typeNode, DerTag.Oid, 'attribute type')));
      if (!valueNode) throw new DerError('attribute without a value');
      const value = decodeString(der, valueNode);
      const label = ATTRIBUTE_NAMES[oid] ?? oid;
      if (label === 'CN' && commonName === undefined) commonName = value;
      rendered.push(
        `${label}=${value === undefined ? `#${raw(der, valueNode).toString('hex')}` : escapeValue(value)}`,
      );
    }
  }
  return { subject: rendered.join(', '), commonName };
}

/** RFC 2986 4.1 attributes → PKCS#9 extensionRequest → the Microsoft DeviceID extension. */
function readDeviceId(der: Buffer, attributes: DerNode): string | undefined {
  for (const attr of children(der, attributes)) {
    const [typeNode, valuesNode] = children(der, expectTag(attr, DerTag.Sequence, 'Attribute'));
    if (
      decodeOid(content(der, expectTag(typeNode, DerTag.Oid, 'OID'))) !== CsrOid.ExtensionRequest
    ) {
      continue;
    }
    for (const extensions of children(der, expectTag(valuesNode, DerTag.Set, 'values'))) {
      for (const ext of children(der, expectTag(extensions, DerTag.Sequence, 'Extensions'))) {
        const fields = children(der, expectTag(ext, DerTag.Sequence, 'Extension'));
        const oid = decodeOid(content(der, expectTag(fields[0], DerTag.Oid, 'extnID')));
        if (oid !== CsrOid.DeviceId) continue;
        const value = expectTag(fields[fields.length - 1], DerTag.OctetString, 'extnValue');
        return content(der, value).toString('latin1').replace(/\0+$/, '');
      }
    }
  }
  return undefined;
}

/** RFC 4514 2.4: specials get a backslash, control characters become `\XX`. */
function escapeValue(value: string): string {
  return value.replace(/\p{Cc}|[,+"\\<>;]/gu, (c) =>
    /\p{Cc}/u.test(c)
      ? `\\${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
      : `\\${c}`,
  );
}
