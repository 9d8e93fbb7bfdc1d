import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  createHash,
  generateKeyPair,
  KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import { Agent, request } from 'node:https';
import { promisify } from 'node:util';
import {
  discoverRequest,
  getPoliciesRequest,
  newMessageId,
  readDiscoverResponse,
  readEnrollmentResponse,
  readFault,
  rstRequest,
  windowsContext,
  type SoapFaultInfo,
} from './enroll-messages';
import { randomDeviceId } from './identity';
import { SimulatorError } from './simulator-error';
import { DeviceTransport } from './transport';
import type { DeviceIdentity, Exchange, TlsTrust } from './types';

x509.cryptoProvider.set(webcrypto);

export { DISCOVERY_PATH, SOAP_CONTENT_TYPE } from '../../src/common/device-protocol';
import { DISCOVERY_PATH, SOAP_CONTENT_TYPE } from '../../src/common/device-protocol';
/** Windows' enrollment client (enrollment.md §1). */
export const ENROLL_USER_AGENT = 'ENROLLClient';
/** Microsoft's DeviceID CSR extension: raw ASCII + NUL, no inner ASN.1 (enrollment.md §6.1). */
const DEVICE_ID_EXTENSION = '1.3.6.1.4.1.311.66.1.0';
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

/** The server answered a step with a SOAP fault (MS-MDE2 2.2.10). */
export class EnrollmentFaultError extends Error {
  override readonly name = 'EnrollmentFaultError';
  constructor(
    readonly step: 'discovery' | 'policy' | 'enrollment',
    readonly fault: SoapFaultInfo,
    readonly exchange: Exchange,
  ) {
    super(`${step} refused with ${fault.subcode}: ${fault.reason}`);
  }
}

export interface EnrollOptions extends TlsTrust {
  /** Server origin, e.g. https://127.0.0.1:8443 (discovery is at its conventional path). */
  server: string;
  email: string;
  /** The enrollment secret or a one-time invitation token, as the user types it. */
  password: string;
  /** Default: 32 random hex digits, like a captured Windows DeviceID. */
  deviceId?: string;
  hwDevId?: string;
  deviceName?: string;
  enrollmentType?: 'Full' | 'Device';
  /** Reuse a key pair (re-enrollment, benchmarks); default: a fresh RSA key of the policy's size. */
  keyPair?: { publicKey: KeyObject; privateKey: KeyObject };
  /**
   * The MDM client certificate and key (PEM) to present in the TLS handshake of the SOAP requests:
   * an enrolled device re-enrolling itself proves who it is this way.
   */
  clientCertificate?: { cert: string; key: string };
  timeoutMs?: number;
}

export interface EnrollmentResult {
  /** What a management session needs: the issued certificate with the CSR's private key. */
  identity: DeviceIdentity;
  caCertPem: string;
  caThumbprint: string;
  clientThumbprint: string;
  managementUrl: string;
  providerId: string;
  provisioningDoc: string;
  exchanges: Exchange[];
}

const toPem = (der: Buffer, label = 'CERTIFICATE') =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END ${label}-----\n`;

/** A PKCS#10 like Windows': CN carries the DeviceID, plus the DeviceID extension. */
export async function createDeviceCsr(
  deviceId: string,
  keyPair: { publicKey: KeyObject; privateKey: KeyObject },
): Promise<string> {
  const keys = {
    privateKey: await webcrypto.subtle.importKey(
      'pkcs8',
      keyPair.privateKey.export({ format: 'der', type: 'pkcs8' }),
      RSA,
      false,
      ['sign'],
    ),
    publicKey: await webcrypto.subtle.importKey(
      'spki',
      keyPair.publicKey.export({ format: 'der', type: 'spki' }),
      RSA,
      true,
      ['verify'],
    ),
  } satisfies webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [deviceId] }],
    keys,
    signingAlgorithm: RSA,
    extensions: [
      new x509.Extension(DEVICE_ID_EXTENSION, false, Buffer.from(`${deviceId}\0`, 'latin1')),
    ],
  });
  return Buffer.from(csr.rawData).toString('base64');
}

export function generateDeviceKey(
  bits = 2048,
): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return promisify(generateKeyPair)('rsa', { modulusLength: bits });
}

/** GET with the same TLS trust as the transport (the discovery probe). */
function probe(url: string, tls: TlsTrust, timeoutMs: number): Promise<Exchange> {
  const started = performance.now();
  const agent = new Agent({ ca: tls.ca, rejectUnauthorized: !tls.insecure });
  return new Promise<Exchange>((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', agent, headers: { 'User-Agent': ENROLL_USER_AGENT } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          agent.destroy();
          resolve({
            url,
            requestBody: '',
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            responseBody: Buffer.concat(chunks).toString('utf8'),
            durationMs: performance.now() - started,
          });
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => {
      agent.destroy();
      reject(new SimulatorError('transport', `GET ${url} failed: ${e.message}`));
    });
    req.end();
  });
}

/**
 * Enrolls like Windows' "Enroll only in device management" (enrollment.md §1): discovery probe and
 * Discover, GetPolicies, then RequestSecurityToken with a fresh key's CSR; returns the issued
 * identity. Faults throw EnrollmentFaultError, other answers SimulatorError.
 */
export async function enrollDevice(opts: EnrollOptions): Promise<EnrollmentResult> {
  const origin = new URL(opts.server).origin;
  const deviceId = opts.deviceId ?? randomDeviceId();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const transport = new DeviceTransport({
    ca: opts.ca,
    insecure: opts.insecure,
    ...(opts.clientCertificate && {
      cert: opts.clientCertificate.cert,
      key: opts.clientCertificate.key,
    }),
    userAgent: ENROLL_USER_AGENT,
    timeoutMs,
  });
  const exchanges: Exchange[] = [];
  const post = async (
    step: EnrollmentFaultError['step'],
    url: string,
    body: string,
    messageId: string,
  ) => {
    const ex = await transport.post(url, body, SOAP_CONTENT_TYPE);
    exchanges.push(ex);
    const fault = readFault(ex.responseBody);
    if (fault) throw new EnrollmentFaultError(step, fault, ex);
    if (ex.status !== 200) throw new SimulatorError('http', `${step}: HTTP ${ex.status}`, ex);
    if (!ex.responseBody.includes(messageId)) {
      throw new SimulatorError(
        'protocol',
        `${step}: the answer does not relate to MessageID ${messageId}`,
        ex,
      );
    }
    return ex.responseBody;
  };
  try {
    const discoveryUrl = `${origin}${DISCOVERY_PATH}`;
    const probed = await probe(discoveryUrl, opts, timeoutMs);
    exchanges.push(probed);
    if (probed.status !== 200)
      throw new SimulatorError('http', `discovery probe: HTTP ${probed.status}`, probed);

    let messageId = newMessageId();
    const discovered = readDiscoverResponse(
      await post(
        'discovery',
        discoveryUrl,
        discoverRequest({ messageId, to: discoveryUrl, email: opts.email }),
        messageId,
      ),
    );
    if (discovered.authPolicy !== 'OnPremise' || !discovered.enrollmentUrl) {
      throw new SimulatorError(
        'protocol',
        `discovery offered ${discovered.authPolicy ?? 'nothing'} without an enrollment URL`,
      );
    }
    const credential = { username: opts.email, password: opts.password };
    if (discovered.policyUrl) {
      messageId = newMessageId();
      await post(
        'policy',
        discovered.policyUrl,
        getPoliciesRequest({ messageId, to: discovered.policyUrl, ...credential }),
        messageId,
      );
    }
    const keyPair = opts.keyPair ?? (await generateDeviceKey());
    const csrBase64 = await createDeviceCsr(deviceId, keyPair);
    messageId = newMessageId();
    const context = windowsContext(deviceId, {
      hwDevId: opts.hwDevId ?? createHash('sha256').update(deviceId).digest('hex').toUpperCase(),
      deviceName: opts.deviceName ?? `SIM-${deviceId.slice(0, 8)}`,
      enrollmentType: opts.enrollmentType,
    });
    const answer = readEnrollmentResponse(
      await post(
        'enrollment',
        discovered.enrollmentUrl,
        rstRequest({ messageId, to: discovered.enrollmentUrl, ...credential, csrBase64, context }),
        messageId,
      ),
    );
    const issued = new X509Certificate(answer.clientCertDer);
    if (!issued.publicKey.equals(keyPair.publicKey)) {
      throw new SimulatorError('protocol', 'the issued certificate is not for the key of the CSR');
    }
    return {
      identity: {
        deviceId,
        cert: toPem(answer.clientCertDer),
        key: keyPair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      },
      caCertPem: toPem(answer.caCertDer),
      caThumbprint: answer.caThumbprint,
      clientThumbprint: answer.clientThumbprint,
      managementUrl: answer.managementUrl,
      providerId: answer.providerId,
      provisioningDoc: answer.provisioningDoc,
      exchanges,
    };
  } finally {
    transport.close();
  }
}

/** A random 32-hex HWDevID-like value, for callers that want one per simulated machine. */
export const randomHwDevId = (): string => randomBytes(32).toString('hex').toUpperCase();
