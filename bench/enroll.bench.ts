/*
 * Enrollment throughput: `npx ts-node --transpile-only bench/enroll.bench.ts [-- --count 40 --concurrency 4]`.
 *
 * Starts the real app with its device HTTPS listener on a free loopback port (request logging
 * off), on MONGODB_URI or else the embedded store in a temporary directory; creates one
 * organization and Windows enterprise (its CA at the production default, 3072-bit), rotates the
 * enrollment secret, then measures complete enrollments (Discover + GetPolicies +
 * RequestSecurityToken, each a new device: CSR verification, certificate signing, device upsert,
 * provisioning document) sequentially and with --concurrency clients, and GET /health on the same
 * listener the same way. The client runs in a worker thread so it does not share the server's
 * event loop; both use keep-alive HTTPS. CSRs (RSA-2048, like Windows) are made beforehand and
 * reused: the server ignores the CSR subject, so the work per enrollment is the same.
 *
 * Renewal: as many devices as --count are enrolled with the simulator, then each renews with the
 * RequestType Renew RST Windows sends, its new PKCS#10 in a PKCS#7 signed with its current key
 * (the signed-request path: one keep-alive connection, no per-device TLS handshake). The same
 * request renews again (the unused renewed certificate is replaced), so the work per renewal is
 * the same: CMS and CSR verification, chain check, certificate signing, binding, device update.
 */
import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Connection } from 'mongoose';
import { mintToken } from '../src/auth/token';
import { createApp } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import { makeCsr } from '../test/fixtures/pki/make-csr';
import { readFault } from '../tools/simulator/enroll-messages';
import {
  discoverRequest,
  getPoliciesRequest,
  newMessageId,
  renewRequest,
  rstRequest,
  windowsContext,
} from '../tools/simulator/enroll-messages';
import { createDeviceCsr, enrollDevice, generateDeviceKey } from '../tools/simulator/enroll';
import { signRenewalRequest } from '../tools/simulator/renew';
import { freeLoopbackPort } from '../src/store/free-port';
import { resolveMongoUri, withDatabase, type ResolvedMongo } from '../src/store';
import { startDeviceListener, type DeviceListener } from '../src/tls/device-listener';

interface Job {
  kind: 'enroll' | 'renew' | 'health';
  baseUrl: string;
  count: number;
  concurrency: number;
  email: string;
  secret: string;
  csrs: string[];
  /** Renewal RSTs, one per enrolled device. */
  renewals: string[];
}

interface JobResult {
  latenciesMs: number[];
  /** Per enrollment step (Discover, GetPolicies, RST), for the breakdown line. */
  stepMs: number[][];
  elapsedMs: number;
  failures: string[];
}

/* ---------------- client (worker thread) ---------------- */

function post(
  agent: Agent,
  url: string,
  body: string | null,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === null ? undefined : Buffer.from(body, 'utf8');
    const req = request(
      url,
      {
        method: payload ? 'POST' : 'GET',
        agent,
        headers: payload
          ? {
              'Content-Type': 'application/soap+xml; charset=utf-8',
              'Content-Length': payload.length,
              'User-Agent': 'ENROLLClient',
            }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function enrollOnce(agent: Agent, job: Job, i: number, stepMs: number[][]): Promise<void> {
  const base = job.baseUrl;
  const deviceId = randomBytes(16).toString('hex').toUpperCase();
  const cred = { username: job.email, password: job.secret };
  const steps: [string, string][] = [
    [
      `${base}/EnrollmentServer/Discovery.svc`,
      discoverRequest({
        messageId: newMessageId(),
        to: `${base}/EnrollmentServer/Discovery.svc`,
        email: job.email,
      }),
    ],
    [
      `${base}/EnrollmentServer/Policy.svc`,
      getPoliciesRequest({
        messageId: newMessageId(),
        to: `${base}/EnrollmentServer/Policy.svc`,
        ...cred,
      }),
    ],
    [
      `${base}/EnrollmentServer/Enrollment.svc`,
      rstRequest({
        messageId: newMessageId(),
        to: `${base}/EnrollmentServer/Enrollment.svc`,
        ...cred,
        csrBase64: job.csrs[i % job.csrs.length],
        context: windowsContext(deviceId, {
          hwDevId: deviceId.repeat(2),
          deviceName: `BENCH-${i}`,
        }),
      }),
    ],
  ];
  for (const [n, [url, body]] of steps.entries()) {
    const t0 = performance.now();
    const r = await post(agent, url, body);
    if (r.status !== 200) {
      throw new Error(`${url}: HTTP ${r.status} ${readFault(r.body)?.reason ?? ''}`);
    }
    stepMs[n].push(performance.now() - t0);
  }
}

async function runJob(job: Job): Promise<JobResult> {
  const agent = new Agent({
    keepAlive: true,
    maxSockets: job.concurrency,
    rejectUnauthorized: false,
  });
  const latenciesMs: number[] = [];
  const stepMs: number[][] = [[], [], []];
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < job.count) {
      const i = next++;
      const t0 = performance.now();
      try {
        if (job.kind === 'enroll') await enrollOnce(agent, job, i, stepMs);
        else if (job.kind === 'renew') {
          const url = `${job.baseUrl}/EnrollmentServer/Enrollment.svc`;
          const r = await post(agent, url, job.renewals[i % job.renewals.length]);
          if (r.status !== 200) {
            throw new Error(`renewal: HTTP ${r.status} ${readFault(r.body)?.reason ?? ''}`);
          }
        } else {
          const r = await post(agent, `${job.baseUrl}/health`, null);
          if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        }
        latenciesMs.push(performance.now() - t0);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return { latenciesMs, stepMs, elapsedMs, failures };
}

if (!isMainThread && (workerData as { benchEnrollClient?: boolean })?.benchEnrollClient) {
  void runJob((workerData as { job: Job }).job).then((r) => parentPort?.postMessage(r));
}

function inWorker(job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(
      `require('ts-node').register({ transpileOnly: true }); require(${JSON.stringify(__filename)});`,
      { eval: true, workerData: { benchEnrollClient: true, job } },
    );
    w.once('message', (r: JobResult) => {
      void w.terminate();
      resolve(r);
    });
    w.once('error', reject);
  });
}

/* ---------------- server and report (main thread) ---------------- */

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

function line(label: string, r: JobResult, concurrency: number): string {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  const rate = (sorted.length / r.elapsedMs) * 1000;
  return (
    `${label.padEnd(34)} c=${String(concurrency).padEnd(3)} ${rate.toFixed(1).padStart(8)}/s  ` +
    `p50 ${pct(sorted, 50).toFixed(1).padStart(6)} ms  p99 ${pct(sorted, 99).toFixed(1).padStart(6)} ms  ` +
    `n=${sorted.length}${r.failures.length ? `  FAILURES ${r.failures.length}: ${r.failures[0]}` : ''}`
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '40' },
      concurrency: { type: 'string', default: '4' },
      'health-count': { type: 'string', default: '1000' },
    },
  });
  const count = Number(values.count);
  const concurrency = Number(values.concurrency);
  const healthCount = Number(values['health-count']);
  if (![count, concurrency, healthCount].every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error('--count, --concurrency and --health-count must be positive integers');
  }
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const external = Boolean(process.env.MONGODB_URI?.trim());
  const dataDir = await mkdtemp(join(tmpdir(), 'mullion-bench-enroll-'));
  let store: ResolvedMongo | undefined;
  let app: INestApplication | undefined;
  let listener: DeviceListener | null = null;
  try {
    store = await resolveMongoUri(process.env, { dataDir, log });
    const uri = external
      ? withDatabase(store.uri, `mullion_bench_${randomBytes(4).toString('hex')}`)
      : store.uri;
    const port = await freeLoopbackPort();
    const jwtSecret = randomBytes(32).toString('hex');
    const config = loadConfig({
      JWT_SECRET: jwtSecret,
      LOG_REQUESTS: 'false',
      DATA_DIR: dataDir,
      DEVICE_PORT: String(port),
      PUBLIC_BASE_URL: `https://127.0.0.1:${port}`,
      ENROLLMENT_MAX_FAILURES_PER_USER: '100000',
      ENROLLMENT_MAX_FAILURES_PER_IP: '100000',
    });
    app = await createApp(config, uri, { logger: ['error'] });
    await app.init();
    const db = app.get<Connection>(getConnectionToken());
    await Promise.all(Object.values(db.models).map((m) => m.init()));
    await app.listen(0, '127.0.0.1');
    listener = await startDeviceListener(app, config);
    const http = app.getHttpServer() as import('node:http').Server;
    const apiBase = `http://127.0.0.1:${(http.address() as import('node:net').AddressInfo).port}`;
    const token = mintToken(jwtSecret, {
      subject: 'bench',
      organizations: ['*'],
      permissions: ['*'],
    });
    const slug = `bench-${randomBytes(4).toString('hex')}`;
    const domain = `${slug}.example.com`;
    const call = async (path: string, body: unknown) => {
      const r = await fetch(`${apiBase}${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await r.json()) as { data: Record<string, unknown> };
      if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
      return json.data;
    };
    await call('/v1/organizations', { name: 'Bench', slug });
    const t0 = performance.now();
    await call(`/v1/organizations/${slug}/mdm/windows/enterprise`, { domains: [domain] });
    const caMs = performance.now() - t0;
    const { secret } = (await call(
      `/v1/organizations/${slug}/mdm/windows/enterprise/enrollment-secret`,
      {},
    )) as { secret: string };
    log('making CSRs…');
    const csrs = await Promise.all(
      [1, 2, 3, 4].map(async () => (await makeCsr({ hash: 'SHA-1' })).base64),
    );
    const job = (kind: Job['kind'], n: number, c: number): Job => ({
      kind,
      baseUrl: `https://127.0.0.1:${port}`,
      count: n,
      concurrency: c,
      email: `bench@${domain}`,
      secret,
      csrs,
      renewals,
    });
    const renewals: string[] = [];
    log('warming up…');
    await inWorker(job('enroll', 4, 1));
    await inWorker(job('health', 100, 1));
    const rows: string[] = [];
    let breakdown = '';
    for (const c of [1, concurrency]) {
      log(`enrollments, concurrency ${c}…`);
      const r = await inWorker(job('enroll', count, c));
      rows.push(line('enroll (Discover+GetPolicies+RST)', r, c));
      if (c === 1) {
        const p50 = (xs: number[]) =>
          pct(
            [...xs].sort((a, b) => a - b),
            50,
          ).toFixed(1);
        breakdown = `sequential p50 per step: Discover ${p50(r.stepMs[0])} ms, GetPolicies ${p50(r.stepMs[1])} ms, RST ${p50(r.stepMs[2])} ms`;
      }
    }
    log(`enrolling ${count} devices to renew…`);
    const baseUrl = `https://127.0.0.1:${port}`;
    const keys = await Promise.all([1, 2, 3, 4].map(() => generateDeviceKey()));
    for (let i = 0; i < count; i++) {
      const enrolled = await enrollDevice({
        server: baseUrl,
        email: `renew@${domain}`,
        password: secret,
        insecure: true,
        keyPair: keys[i % keys.length],
      });
      const { deviceId } = enrolled.identity;
      const csr = Buffer.from(
        await createDeviceCsr(deviceId, keys[(i + 1) % keys.length]),
        'base64',
      );
      renewals.push(
        renewRequest({
          messageId: newMessageId(),
          to: `${baseUrl}/EnrollmentServer/Enrollment.svc`,
          pkcs7Base64: signRenewalRequest(csr, enrolled.identity).toString('base64'),
          context: windowsContext(deviceId, { hwDevId: deviceId, deviceName: `RENEW-${i}` }),
        }),
      );
    }
    await inWorker(job('renew', 4, 1));
    for (const c of [1, concurrency]) {
      log(`renewals, concurrency ${c}…`);
      rows.push(
        line('renew (RST Renew, PKCS#7-signed)', await inWorker(job('renew', count, c)), c),
      );
    }
    for (const c of [1, concurrency]) {
      log(`GET /health, concurrency ${c}…`);
      rows.push(
        line('GET /health (same listener)', await inWorker(job('health', healthCount, c)), c),
      );
    }
    const devices = await db.collection('win_devices').countDocuments({});
    const cpu = cpus();
    console.log(
      `command:  npx ts-node --transpile-only bench/enroll.bench.ts --count ${count} --concurrency ${concurrency} --health-count ${healthCount}`,
    );
    console.log(
      `machine:  ${cpu.length} cores (${cpu[0]?.model.trim() ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
    );
    console.log(
      `store:    ${store.source}${external ? '' : ' (embedded)'}; HTTPS keep-alive, client in a worker thread, request logging off`,
    );
    console.log(
      `CA:       ${config.enrollment.caKeyBits}-bit RSA, created with the enterprise in ${caMs.toFixed(0)} ms; CSRs RSA-2048 signed with SHA-1 (like Windows)`,
    );
    console.log(rows.join('\n'));
    console.log(breakdown);
    const renewed = await db
      .collection('win_devices')
      .countDocuments({ renewalThumbprint: { $exists: true } });
    console.log(`devices enrolled: ${devices}; with a renewed certificate: ${renewed}`);
  } finally {
    // Never leave bench data in the database MONGODB_URI names.
    if (external && app) {
      await app
        .get<Connection>(getConnectionToken())
        .dropDatabase()
        .catch(() => undefined);
    }
    await listener?.close();
    (app?.getHttpServer() as import('node:http').Server | undefined)?.closeAllConnections();
    await app?.close().catch(() => undefined);
    await store?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (isMainThread && require.main === module) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(1);
    },
  );
}
