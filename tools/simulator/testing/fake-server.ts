import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  buildSyncml,
  parseSyncml,
  SYNCHDR_CMD,
  SYNCHDR_CMD_REF,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlMessage,
} from '../../../src/syncml/codec';
import { SYNCML_CONTENT_TYPE } from '../checks';
import { MANAGEMENT_PATH } from '../device';

export interface FakeRequest {
  method: string;
  /** Path and query as requested. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The client certificate presented in the TLS handshake (DER), if any. */
  peerCertDer?: Buffer;
  /** Its subject CN. */
  peerCn?: string;
  /** The SyncML message, when the body parses. */
  message?: SyncmlMessage;
}

export interface FakeAnswer {
  status?: number;
  body: string;
  contentType?: string;
}

/** Decides the answer to the n-th request (0-based). */
export type FakeScript = (req: FakeRequest, index: number) => FakeAnswer;

/**
 * A tiny HTTPS server for unit tests: requests a client certificate (any, like a TLS terminator
 * in optional-verify mode), records every request and answers from a script.
 */
export class FakeMdmServer {
  private constructor(
    private readonly server: Server,
    readonly origin: string,
    /** Every request received, in order. */
    readonly requests: FakeRequest[],
  ) {}

  /** The management URL (§1.1 convention). */
  get url(): string {
    return `${this.origin}${MANAGEMENT_PATH}`;
  }

  static async start(
    tls: { cert: string; key: string; ca?: string },
    script: FakeScript,
  ): Promise<FakeMdmServer> {
    const requests: FakeRequest[] = [];
    const server = createServer(
      { ...tls, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const socket = req.socket as TLSSocket;
          const peer = socket.getPeerCertificate();
          const body = Buffer.concat(chunks).toString('utf8');
          const record: FakeRequest = {
            method: req.method ?? '',
            url: req.url ?? '',
            headers: req.headers,
            body,
          };
          if (peer && peer.raw) {
            record.peerCertDer = peer.raw;
            const cn = peer.subject?.CN;
            record.peerCn = Array.isArray(cn) ? cn[0] : cn;
          }
          try {
            record.message = parseSyncml(body);
          } catch {
            // not SyncML: the script decides what to answer
          }
          requests.push(record);
          let answer: FakeAnswer;
          try {
            answer = script(record, requests.length - 1);
          } catch (err) {
            answer = { status: 500, body: (err as Error).message, contentType: 'text/plain' };
          }
          const payload = Buffer.from(answer.body, 'utf8');
          res.writeHead(answer.status ?? 200, {
            'Content-Type': answer.contentType ?? SYNCML_CONTENT_TYPE,
            'Content-Length': payload.length,
          });
          res.end(payload);
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new FakeMdmServer(server, `https://127.0.0.1:${port}`, requests);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A correct server answer to `deviceMsg` (management-session.md §3.3): Status for its SyncHdr,
 * one Status per device command that needs one, then `commands`, then Final.
 */
export function serverAnswer(
  deviceMsg: SyncmlMessage,
  serverMsgId: number,
  commands: SyncmlCommand[],
  final = true,
): string {
  const ref = deviceMsg.header.msgId;
  let id = 0;
  const status = (cmdRef: string, cmd: string): SyncmlCommand => ({
    kind: 'Status',
    cmdId: `s${++id}`,
    msgRef: ref,
    cmdRef,
    cmd,
    targetRef: [],
    sourceRef: [],
    data: SyncmlStatus.Ok,
    items: [],
  });
  const statuses = deviceMsg.commands
    .filter((c) => c.kind !== 'Status' && c.kind !== 'Results')
    .map((c) => status(c.cmdId, c.kind));
  return buildSyncml(
    {
      header: {
        sessionId: deviceMsg.header.sessionId,
        msgId: String(serverMsgId),
        target: deviceMsg.header.source,
        source: deviceMsg.header.target,
      },
      commands: [status(SYNCHDR_CMD_REF, SYNCHDR_CMD), ...statuses, ...commands],
      final,
    },
    { headless: true },
  );
}
