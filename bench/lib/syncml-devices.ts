/*
 * The device side of `npm run bench:syncml`: a lean simulated Windows device that can stop between
 * the messages of a session (the simulator's runSession() always runs a session to its end), and
 * the load process (child_process.fork) that drives N of them, so the load neither shares the
 * server's event loop nor shows in its CPU figures (a simulated check-in costs ~0.8 ms of CPU).
 */
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import { forkTs } from './server-process';
import { processCpuMs } from './proc-cpu';
import {
  AlertCode,
  buildSyncml,
  parseSyncml,
  SYNCHDR_CMD_REF,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlMessage,
} from '../../src/syncml/codec';
import { DEFAULT_DEV_INFO, resolveServerUrl } from '../../tools/simulator/device';
import {
  deviceHeader,
  idCounter,
  package1Commands,
  syncHdrStatus,
} from '../../tools/simulator/messages';
import { CommandResponder } from '../../tools/simulator/responder';
import {
  DEFAULT_READ_ONLY_PATHS,
  DeviceTree,
  windowsDefaultValues,
} from '../../tools/simulator/tree';

export interface BenchIdentity {
  deviceId: string;
  cert: string;
  key: string;
}

/** One device message and the server's answer to it. */
export interface Step {
  ms: number;
  /** Management commands in the answer (anything but Status/Results). */
  serverCommands: number;
}

const CONTENT_TYPE = 'application/vnd.syncml.dm+xml';
/** Generous: on a saturated store a message waits long, and a device that gave up would come
 * back while the server still works on its message (the lock would then be taken over). */
const TIMEOUT_MS = 180_000;
/** A keep-alive connection idle longer than this is not reused (below node's server default, 5 s). */
const REUSE_IDLE_MS = 2_000;

/**
 * Talks like the simulator's SimulatedDevice (same package 1, same responder and tree) but one
 * message at a time, over one keep-alive HTTPS agent with its client certificate.
 */
export class BenchDevice {
  readonly deviceId: string;
  private readonly identity: BenchIdentity;
  private agent: Agent;
  /** When the last answer arrived (performance.now()), or null before the first request. */
  private lastAnswerAt: number | null = null;
  private readonly target: string;
  private readonly requestUrl: string;
  private readonly origin: string;
  private readonly responder: CommandResponder;
  private sessionCounter = 0;
  private sessionId = '';
  private deviceMsgId = 0;
  /** The server message the device still has to answer. */
  private pending: SyncmlMessage | null = null;

  constructor(identity: BenchIdentity, serverUrl: string) {
    this.deviceId = identity.deviceId;
    ({ target: this.target, requestUrl: this.requestUrl } = resolveServerUrl(serverUrl));
    this.origin = new URL(serverUrl).origin;
    this.identity = identity;
    this.agent = this.newAgent();
    const tree = new DeviceTree(windowsDefaultValues(this.deviceId, DEFAULT_DEV_INFO));
    this.responder = new CommandResponder(tree, {
      unknownStatus: SyncmlStatus.NotFound,
      readOnlyPaths: DEFAULT_READ_ONLY_PATHS,
      failPaths: {},
      execStatus: SyncmlStatus.Ok,
    });
  }

  /** Package 1 of a new session (Alert 1201, LoginStatus, DevInfo, Final). */
  async open(): Promise<Step> {
    // A fresh SessionID each time: an identical package 1 under the same SessionID is a replay.
    this.sessionId = String((this.sessionCounter++ % 255) + 1);
    this.deviceMsgId = 1;
    const commands = package1Commands({
      deviceId: this.deviceId,
      devInfo: DEFAULT_DEV_INFO,
      sessionAlert: AlertCode.ClientInitiatedMgmt,
      loginStatus: 'user',
      extraAlerts: [],
    });
    return this.send(commands, true);
  }

  /** The Statuses (and Results) for the server's last message, as the simulator answers it. */
  async answer(): Promise<Step> {
    const msg = this.pending;
    if (!msg) throw new Error(`${this.deviceId}: no server message to answer`);
    const next = idCounter();
    const hdr = syncHdrStatus(next(), msg.header.msgId);
    const answer = this.responder.answer(msg, next);
    this.deviceMsgId++;
    return this.send([hdr, ...answer.replies], msg.final);
  }

  async health(): Promise<number> {
    const started = performance.now();
    const res = await this.http('GET', `${this.origin}/health`);
    if (res.status !== 200) throw new Error(`GET /health answered ${res.status}`);
    return performance.now() - started;
  }

  close(): void {
    this.agent.destroy();
  }

  private newAgent(): Agent {
    return new Agent({
      keepAlive: true,
      maxSockets: 1,
      cert: this.identity.cert,
      key: this.identity.key,
      rejectUnauthorized: false, // the listener's self-signed local certificate
    });
  }

  private async send(commands: SyncmlCommand[], final: boolean): Promise<Step> {
    const header = deviceHeader({
      sessionId: this.sessionId,
      msgId: this.deviceMsgId,
      serverUrl: this.target,
      source: this.deviceId,
    });
    const body = buildSyncml({ header, commands, final }, { headless: true });
    const started = performance.now();
    const res = await this.http('POST', this.requestUrl, body);
    const ms = performance.now() - started;
    if (res.status !== 200) {
      throw new Error(`HTTP ${res.status} ${res.body.slice(0, 120)}`.trim());
    }
    const msg = parseSyncml(res.body);
    const hdr = msg.commands.find((c) => c.kind === 'Status' && c.cmdRef === SYNCHDR_CMD_REF);
    if (!hdr || hdr.kind !== 'Status' || hdr.data !== SyncmlStatus.Ok) {
      throw new Error(`SyncHdr not accepted: ${hdr?.kind === 'Status' ? hdr.data : 'no Status'}`);
    }
    const serverCommands = countCommands(msg);
    this.pending = serverCommands ? msg : null;
    return { ms, serverCommands };
  }

  private http(
    method: 'GET' | 'POST',
    url: string,
    body?: string,
  ): Promise<{ status: number; body: string }> {
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    // A connection left idle near the server's keep-alive timeout (node's default, 5 s) may be
    // closed by the server while this request is on its way: a busy server runs its expired
    // keep-alive timers before it reads what arrived, and the request dies as "socket hang up".
    // The barrier phases leave early devices waiting for the slowest, so such a device opens a
    // new connection (its handshake counts in the latency, as for a real device coming back).
    if (this.lastAnswerAt !== null && performance.now() - this.lastAnswerAt > REUSE_IDLE_MS) {
      this.agent.destroy();
      this.agent = this.newAgent();
    }
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          headers: payload
            ? { 'Content-Type': CONTENT_TYPE, 'Content-Length': payload.length }
            : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            this.lastAnswerAt = performance.now();
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
        },
      );
      req.setTimeout(TIMEOUT_MS, () =>
        req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function countCommands(msg: SyncmlMessage): number {
  return msg.commands.filter((c) => c.kind !== 'Status' && c.kind !== 'Results').length;
}

// ---------------------------------------------------------------------------------------------
// Load process protocol: the bench asks for one timed segment at a time.

export type LoadRequest =
  /** Every device repeats `op` back to back for durationMs (closed loop). */
  | { kind: 'loop'; op: 'idle' | 'health'; durationMs: number }
  /** Every device sends one message at once; the answer must carry `expect` commands. */
  | { kind: 'barrier'; op: 'open' | 'answer'; expect: number }
  | { kind: 'stop' };

export interface LoadResult {
  /** Latency of each successful request, ms (measured part only). */
  latencies: number[];
  wallMs: number;
  errors: Record<string, number>;
}

export interface LoadSetup {
  kind: 'syncml-bench-load';
  serverUrl: string;
  identities: BenchIdentity[];
}

async function loop(
  devices: BenchDevice[],
  op: 'idle' | 'health',
  ms: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    devices.map(async (d) => {
      while (performance.now() < end) {
        try {
          if (op === 'health') {
            latencies.push(await d.health());
          } else {
            const step = await d.open();
            if (step.serverCommands !== 0) {
              throw new Error(`idle check-in got ${step.serverCommands} commands`);
            }
            latencies.push(step.ms);
          }
        } catch (e) {
          const key = (e as Error).message;
          errors[key] = (errors[key] ?? 0) + 1;
        }
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started, errors };
}

async function barrier(
  devices: BenchDevice[],
  op: 'open' | 'answer',
  expect: number,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const started = performance.now();
  await Promise.all(
    devices.map(async (d) => {
      try {
        const step = op === 'open' ? await d.open() : await d.answer();
        if (step.serverCommands !== expect) {
          throw new Error(`answer carried ${step.serverCommands} commands, expected ${expect}`);
        }
        latencies.push(step.ms);
      } catch (e) {
        const key = (e as Error).message;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started, errors };
}

/** Child side: set up by the first message, then one reply per request. */
function runLoadChild(): void {
  let devices: BenchDevice[] = [];
  process.on('message', (req: LoadRequest | LoadSetup) => {
    void (async (): Promise<LoadResult | null> => {
      switch (req.kind) {
        case 'syncml-bench-load':
          devices = req.identities.map((id) => new BenchDevice(id, req.serverUrl));
          return { latencies: [], wallMs: 0, errors: {} };
        case 'stop':
          for (const d of devices) d.close();
          process.disconnect();
          return null;
        case 'barrier':
          return barrier(devices, req.op, req.expect);
        case 'loop':
          return loop(devices, req.op, req.durationMs);
      }
    })().then(
      (result) => {
        if (result) process.send?.(result);
      },
      (e: unknown) =>
        process.send?.({ latencies: [], wallMs: 0, errors: { [String(e)]: 1 } } as LoadResult),
    );
  });
}

/** The bench's handle on the load process. */
export class LoadProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly ready: Promise<LoadResult>;

  constructor(setup: LoadSetup) {
    this.child = forkTs(__filename, ['--load-process']);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = this.ask(setup);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** CPU ms the load process spent so far (all its threads). */
  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  async run(req: LoadRequest): Promise<LoadResult> {
    await this.ready;
    return this.ask(req);
  }

  async stop(): Promise<void> {
    if (this.child.connected) this.child.send({ kind: 'stop' } satisfies LoadRequest);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(killer);
  }

  private ask(req: LoadRequest | LoadSetup): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error('the load process exited'));
      this.child.once('exit', onExit);
      this.child.once('message', (r: LoadResult) => {
        this.child.off('exit', onExit);
        resolve(r);
      });
      this.child.send(req);
    });
  }
}

if (process.argv.includes('--load-process') && process.send) runLoadChild();
