import { INestApplication, Logger } from '@nestjs/common';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEVICE_PATH_ROOTS, MANAGEMENT_PATH } from '../common/device-protocol';
import type { AppConfig } from '../config/app-config';
import { createSelfSignedServerCertificate } from './self-signed';

/**
 * Path prefixes served on the device listener (compared lower-case, as Express routes are): the
 * device protocols, and the health checks a load balancer in front of this port needs.
 */
export const DEVICE_PATHS = [...DEVICE_PATH_ROOTS.map((p) => `${p.toLowerCase()}/`), '/health'];

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

/**
 * The HTTPS listener for device-facing endpoints, on the same Express app as the admin API. It
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
  const devicesOnly = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').toLowerCase();
    if (DEVICE_PATHS.some((p) => path.startsWith(p))) return express(req, res);
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
  };
  const server = createServer(
    { cert, key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
    devicesOnly,
  );
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
