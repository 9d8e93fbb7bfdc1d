import { INestApplication, Logger } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { DEVICE_PATH_ROOTS, MANAGEMENT_PATH } from '../common/device-protocol';
import type { AppConfig } from '../config/app-config';
import { createSelfSignedServerCertificate } from './self-signed';

/**
 * Path prefixes served on the device listener (compared lower-case, as Express routes are): the
 * device protocols, and the health checks a load balancer in front of this port needs.
 */
export const DEVICE_PATHS = [...DEVICE_PATH_ROOTS.map((p) => `${p.toLowerCase()}/`), '/health'];

/** The device protocols' path prefixes (lower-case): served on the device listener only. */
const DEVICE_PROTOCOL_PATHS = DEVICE_PATH_ROOTS.map((p) => p.toLowerCase());

// Requests that came in through the device listener. Both listeners hand requests to one Express
// app; this set is how the app tells them apart (a header could be forged, an object identity
// cannot).
const viaDeviceListener = new WeakSet<IncomingMessage>();

/** True when the request arrived on the device listener (TLS, client certificate requested). */
export function arrivedOnDeviceListener(req: IncomingMessage): boolean {
  return viaDeviceListener.has(req);
}

function isDeviceProtocolPath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0].toLowerCase();
  return DEVICE_PROTOCOL_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

/**
 * Express middleware, first in the chain: the device protocols (SyncML, enrollment SOAP) answer
 * only on the device listener. On the admin listener (PORT) they are 404, as the admin API is on
 * the device listener (decisions.md §11): neither port serves the other's endpoints, so a client
 * certificate check cannot be bypassed through the port that never asks for one.
 */
export function deviceProtocolsOnDeviceListenerOnly(
  req: IncomingMessage,
  res: ServerResponse,
  next: () => void,
): void {
  if (!isDeviceProtocolPath(req.url) || arrivedOnDeviceListener(req)) return next();
  notFound(res);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
}

/**
 * A device endpoint served by a plain node handler ahead of Express (decisions.md §44): the
 * management endpoint, whose check-ins are the server's hot path. The feature module provides
 * it under DEVICE_ROUTE; the listener serves what `matches` and hands the rest to Express.
 */
export interface DeviceRoute {
  matches(req: IncomingMessage): boolean;
  serve(req: IncomingMessage, res: ServerResponse): void;
}
export const DEVICE_ROUTE = Symbol('DEVICE_ROUTE');

function deviceRouteOf(app: INestApplication): DeviceRoute | null {
  try {
    return app.get<DeviceRoute>(DEVICE_ROUTE, { strict: false });
  } catch {
    return null;
  }
}

export interface DeviceListener {
  server: Server;
  port: number;
  /** The server certificate devices see (PEM). */
  certificatePem: string;
  close(): Promise<void>;
}

async function serverCredentials(
  config: AppConfig,
  logger: Logger,
): Promise<{ cert: string; key: string }> {
  const d = config.device;
  if (d.tlsCertFile && d.tlsKeyFile) {
    return { cert: readFileSync(d.tlsCertFile, 'utf8'), key: readFileSync(d.tlsKeyFile, 'utf8') };
  }
  // Local use: a self-signed certificate generated once into the data directory.
  const dir = join(config.dataDir, 'tls');
  const certFile = join(dir, 'device-server.crt');
  const keyFile = join(dir, 'device-server.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const host = new URL(d.publicBaseUrl).hostname;
    const { certPem, keyPem } = await createSelfSignedServerCertificate([
      ...new Set([host, 'localhost', '127.0.0.1']),
    ]);
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
    writeFileSync(certFile, certPem);
    logger.log(
      `Generated a self-signed device TLS certificate in ${dir} (set DEVICE_TLS_CERT_FILE/KEY_FILE for a real one)`,
    );
  }
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

// TLS record type 22 (RFC 8446 §5.1): every TLS connection opens with a handshake record.
const TLS_HANDSHAKE = 0x16;
// Tolerated silence before the first byte, as Node's own TLS handshakeTimeout default.
const FIRST_BYTE_TIMEOUT_MS = 120_000;

const REQUEST_LINE = /^[A-Z]{3,7} (\/\S*) HTTP\/1\.[01]\r?\n/;
const HOST_HEADER = /\r?\nhost:[ \t]*([\w.:[\]-]{1,255})[ \t]*\r?\n/i;

/**
 * The plain-text answer to an HTTP request sent in clear to the TLS port: the same URL with
 * https://, from the request's own Host header (what the client typed), else PUBLIC_BASE_URL.
 */
export function plainHttpAnswer(firstBytes: Buffer, publicBaseUrl: string): string {
  const head = firstBytes.toString('latin1');
  const path = REQUEST_LINE.exec(head)?.[1] ?? '/';
  const host = HOST_HEADER.exec(head)?.[1];
  const url = `${host ? `https://${host}` : publicBaseUrl}${path}`;
  const body = `This port speaks HTTPS (TLS) only; use ${url}\n`;
  return (
    'HTTP/1.1 400 Bad Request\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * Hands each connection to the TLS server once its first byte is known: a TLS handshake goes on
 * as before; something that starts like an HTTP request line (an ASCII capital: GET, POST…) was
 * meant for https:// and gets a 400 that says so, instead of a reset the client cannot explain.
 */
function answerPlainHttp(server: Server, publicBaseUrl: string): void {
  const tlsListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const idle = () => socket.destroy();
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS);
    socket.once('timeout', idle);
    // Until TLS takes over, a reset by the peer must not become an uncaught 'error'.
    socket.once('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.setTimeout(0);
      socket.removeListener('timeout', idle);
      const first = chunk[0];
      if (first !== TLS_HANDSHAKE && first >= 0x41 && first <= 0x5a) {
        socket.end(plainHttpAnswer(chunk, publicBaseUrl));
        return;
      }
      // The TLS socket reads what is already buffered before the rest (node:_tls_wrap).
      socket.unshift(chunk);
      for (const listener of tlsListeners) listener.call(server, socket);
    });
  });
}

/**
 * The HTTPS listener for device-facing endpoints, on the same Express app as the admin API (each
 * request it passes on is marked, so the app serves the device protocols only from here). It
 * requests (does not require) a client certificate: devices present the one they got at
 * enrollment; enrollment itself happens before they have one. Verification is the endpoint's job.
 */
export async function startDeviceListener(
  app: INestApplication,
  config: AppConfig,
): Promise<DeviceListener | null> {
  const logger = new Logger('DeviceListener');
  if (config.device.port === null) return null;
  const { cert, key } = await serverCredentials(config, logger);
  const express = app.getHttpAdapter().getInstance() as (
    req: IncomingMessage,
    res: ServerResponse,
  ) => void;
  // Devices reach only the device protocols (and health) here: the admin API and Swagger UI stay
  // on the admin listener (PORT), even when this one faces the internet.
  const route = deviceRouteOf(app);
  const devicesOnly = (req: IncomingMessage, res: ServerResponse) => {
    if (route?.matches(req)) return route.serve(req, res);
    const path = (req.url ?? '').toLowerCase();
    if (!DEVICE_PATHS.some((p) => path.startsWith(p))) return notFound(res);
    viaDeviceListener.add(req);
    return express(req, res);
  };
  const server = createServer(
    { cert, key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    devicesOnly,
  );
  // The client certificate is resolved once per connection (client-identity.ts): a
  // renegotiation must not be able to swap it.
  server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  answerPlainHttp(server, config.device.publicBaseUrl);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.device.port ?? 0, config.device.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  logger.log(
    `Device endpoints on https://${config.device.host}:${port} (management: ${MANAGEMENT_PATH})`,
  );
  return {
    server,
    port,
    certificatePem: cert,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
