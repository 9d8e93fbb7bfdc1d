/**
 * PKI cost on this machine: `npx ts-node --transpile-only bench/pki.bench.ts [seconds]`.
 * Prints CA creation time per key size and CSR verification + issuance throughput.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EnterpriseCa, createEnterpriseCa } from '../src/pki/ca';
import { parseAndVerifyCsr } from '../src/pki/csr';
import { issueDeviceCertificate } from '../src/pki/issue';
import { importSigningKey } from '../src/pki/x509';

const seconds = Number(process.argv[2] ?? 3);
const csrB64 = readFileSync(join(__dirname, '../test/fixtures/pki/windows-csr.b64'), 'utf8');

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `median ${median.toFixed(1)} ms (min ${sorted[0].toFixed(1)}, max ${sorted[sorted.length - 1].toFixed(1)}, n=${sorted.length})`;
}

async function timeCa(keyBits: 2048 | 3072, runs: number): Promise<EnterpriseCa> {
  const samples: number[] = [];
  let ca: EnterpriseCa | undefined;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    ca = await createEnterpriseCa({ commonName: `Bench CA ${keyBits}`, now: new Date(), keyBits });
    samples.push(performance.now() - t);
  }
  console.log(`createEnterpriseCa RSA-${keyBits}: ${stats(samples)}`);
  return ca as EnterpriseCa;
}

/** Runs `fn` back to back in `concurrency` parallel lanes for the configured time. */
async function loop(
  label: string,
  fn: () => Promise<unknown> | unknown,
  concurrency = 1,
): Promise<void> {
  for (let i = 0; i < 20; i++) await fn();
  let n = 0;
  const start = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() - start < seconds * 1000) {
      await fn();
      n++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const ms = performance.now() - start;
  const per = concurrency === 1 ? `${(ms / n).toFixed(2)} ms/op, ` : `${concurrency} lanes, `;
  console.log(`${label}: ${per}${((n * 1000) / ms).toFixed(0)} ops/s`);
}

async function main(): Promise<void> {
  const ca2048 = await timeCa(2048, 8);
  const ca3072 = await timeCa(3072, 8);
  const now = new Date();
  await loop('parseAndVerifyCsr (Windows SHA-1 CSR)', () => parseAndVerifyCsr(csrB64));
  await loop('importSigningKey (RSA-3072 PKCS#8)', () =>
    importSigningKey(ca3072.privateKeyPkcs8Pem),
  );
  for (const [bits, ca] of [
    [2048, ca2048],
    [3072, ca3072],
  ] as const) {
    const enroll = (): Promise<unknown> =>
      issueDeviceCertificate({
        ca,
        csrPublicKey: parseAndVerifyCsr(csrB64).publicKey,
        deviceId: 'B5B954E81FBCB94EB79BD08BE625F4EE',
        now,
      });
    await loop(`verify CSR + issue, RSA-${bits} CA`, enroll);
    await loop(`verify CSR + issue, RSA-${bits} CA`, enroll, 4);
  }
}

void main();
