import { Agent, request } from 'node:https';
import { SyncmlStatus, type SyncmlCommand } from '../../src/syncml/codec';
import { idCounter, nextMessageAlert } from '../../tools/simulator/messages';
import type { TestApp } from './app';
import {
  answerOf,
  deviceMessage,
  hdrStatus,
  managementCommands,
  openingCommands,
  resultsCmd,
  statusCmd,
  SYNCML_TYPE,
  type Managed,
  type RawAnswer,
} from './syncml-device';

/**
 * A Windows-like polling device that retries a failed exchange with the same message: after a
 * 503, a 429 (the admission gate's "busy", management-session.md §1) or a broken connection it
 * resends the exact bytes (CONNRETRYFREQ), never re-executes a command it already answered, and
 * counts how often it executed each server command.
 */
export class RetryingDevice {
  /** Executions per server CmdID (mullion's cmdId): more than 1 means executed twice. */
  readonly executions = new Map<string, number>();
  /** Answers the device had to retry, by reason (503, 429, a broken connection). */
  readonly retries = { unavailable: 0, busy: 0, network: 0 };
  /** When each completed session ended (performance.now()). */
  readonly sessionsEndedAt: number[] = [];
  private sessionCounter = 0;
  // Kept alive like Windows' connection: a TLS handshake per message would be most of the load.
  private readonly agent: Agent;

  constructor(
    private readonly t: TestApp,
    readonly device: Managed,
    private readonly retryDelayMs = 100,
  ) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: 1,
      cert: device.creds.certPem,
      key: device.creds.keyPem,
      rejectUnauthorized: false,
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sessions back to back until `keepGoing()` turns false. */
  async poll(keepGoing: () => boolean, pauseMs = 50): Promise<void> {
    while (keepGoing()) {
      await this.session();
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  async session(): Promise<void> {
    const sessionId = String((this.sessionCounter++ % 255) + 1);
    let commands: SyncmlCommand[] = openingCommands(this.device.deviceId);
    let final = true;
    for (let msgId = 1; msgId < 100; msgId++) {
      const body = deviceMessage({
        deviceId: this.device.deviceId,
        sessionId,
        msgId,
        commands,
        final,
      });
      const msg = answerOf(await this.send(body));
      const due = managementCommands(msg);
      if (!due.length) {
        this.sessionsEndedAt.push(performance.now());
        return;
      }
      const next = idCounter();
      const replies: SyncmlCommand[] = [hdrStatus(next(), msg.header.msgId)];
      for (const c of due) {
        if (c.kind === 'Alert' || !('items' in c)) continue;
        this.executions.set(c.cmdId, (this.executions.get(c.cmdId) ?? 0) + 1);
        replies.push(statusCmd(next(), msg.header.msgId, c.cmdId, c.kind, SyncmlStatus.Ok));
        if (c.kind === 'Get') {
          const path = c.items[0]?.target ?? '';
          replies.push(resultsCmd(next(), msg.header.msgId, c.cmdId, path, `value of ${path}`));
        }
      }
      if (!msg.final) replies.push(nextMessageAlert(next()));
      commands = replies;
      final = msg.final;
    }
    throw new Error(`device ${this.device.deviceId}: session ${sessionId} never ended`);
  }

  /** The same bytes until the server answers something other than 503 or 429. */
  private async send(body: string): Promise<RawAnswer> {
    for (;;) {
      try {
        const answer = await this.post(body);
        if (answer.status === 503) this.retries.unavailable++;
        else if (answer.status === 429) this.retries.busy++;
        else return answer;
      } catch {
        this.retries.network++;
      }
      await new Promise((r) => setTimeout(r, this.retryDelayMs));
    }
  }

  private post(body: string): Promise<RawAnswer> {
    const payload = Buffer.from(body, 'utf8');
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.t.deviceBaseUrl}/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': SYNCML_TYPE, 'Content-Length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: res.headers['content-type'],
              body: Buffer.concat(chunks).toString('utf8'),
              ms: performance.now() - started,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}
