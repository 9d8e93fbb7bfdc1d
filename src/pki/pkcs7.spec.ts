import { generateKeyPairSync } from 'node:crypto';
import { signRenewalRequest } from '../../tools/simulator/renew';
import { createEnterpriseCa } from './ca';
import { issueDeviceCertificate } from './issue';
import { Pkcs7Error, readSignedRequest } from './pkcs7';

describe('readSignedRequest (CMS SignedData of a renewal)', () => {
  const csr = Buffer.from('3003020100', 'hex');
  let signer: { cert: string; key: string; thumbprint: string };
  let other: { cert: string; key: string };

  beforeAll(async () => {
    const ca = await createEnterpriseCa({
      commonName: 'pkcs7 test CA',
      now: new Date(),
      keyBits: 2048,
    });
    const issue = async () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const c = await issueDeviceCertificate({
        ca: { certificatePem: ca.certificatePem, privateKeyPkcs8Pem: ca.privateKeyPkcs8Pem },
        csrPublicKey: publicKey,
        deviceId: 'DEV1',
        now: new Date(),
      });
      return {
        cert: c.certificatePem,
        key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        thumbprint: c.thumbprint,
      };
    };
    signer = await issue();
    other = await issue();
  });

  it('returns the content and the signer certificate of a valid signature', () => {
    const read = readSignedRequest(signRenewalRequest(csr, signer).toString('base64'));
    expect(read.content.equals(csr)).toBe(true);
    expect(read.signer?.thumbprint).toBe(signer.thumbprint);
  });

  it('refuses a signature made with another key than the included certificate', () => {
    const forged = signRenewalRequest(csr, { cert: signer.cert, key: other.key });
    expect(() => readSignedRequest(forged)).toThrow(
      expect.objectContaining({ reason: 'bad-signature' }),
    );
  });

  it('refuses content changed after signing', () => {
    const der = signRenewalRequest(csr, signer);
    const at = der.indexOf(csr);
    der[at + 4] ^= 1;
    expect(() => readSignedRequest(der)).toThrow(Pkcs7Error);
  });

  it('refuses garbage and truncated input as malformed', () => {
    expect(() => readSignedRequest(Buffer.from('not der'))).toThrow(
      expect.objectContaining({ reason: 'malformed' }),
    );
    const der = signRenewalRequest(csr, signer);
    expect(() => readSignedRequest(der.subarray(0, der.length - 10))).toThrow(
      expect.objectContaining({ reason: 'malformed' }),
    );
  });
});
