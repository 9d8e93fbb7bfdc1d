import { generateKeyPairSync } from 'node:crypto';
import { createEnterpriseCa, issueDeviceCertificate } from '../../src/pki';

export interface DeviceCredentials {
  certPem: string;
  keyPem: string;
  thumbprint: string;
}

let caPromise: ReturnType<typeof createEnterpriseCa> | null = null;

/** A client certificate for `deviceId`, as an administrator would register it (one test CA). */
export async function makeDeviceCredentials(
  deviceId: string,
  issuedAt = new Date(),
): Promise<DeviceCredentials> {
  caPromise ??= createEnterpriseCa({
    commonName: 'mullion test CA',
    now: new Date(),
    keyBits: 2048,
  });
  const ca = await caPromise;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = await issueDeviceCertificate({
    ca: { certificatePem: ca.certificatePem, privateKeyPkcs8Pem: ca.privateKeyPkcs8Pem },
    csrPublicKey: publicKey,
    deviceId,
    now: issuedAt,
  });
  return {
    certPem: cert.certificatePem,
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    thumbprint: cert.thumbprint,
  };
}
