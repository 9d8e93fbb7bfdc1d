import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { DEVICE_PATH_ROOTS } from './common/device-protocol';
import { ERROR_HTTP_STATUS, ERROR_MESSAGES, ErrorCode } from './common/errors';
import { DEVICE_PROTOCOLS_TAG } from './common/http/swagger';
import type { AppConfig } from './config/app-config';

/** Where the admin API answers: HOST:PORT, or relative to the document when PORT is 0 (any). */
// Codes a client of the REST API can meet, in the order the README's table lists them.
const DOCUMENTED_CODES: ErrorCode[] = [5091, 5142, 4002, 4004, 4003, 3001, 4009, 4015];

function description(): string {
  const codes = DOCUMENTED_CODES.map(
    (c) => `- ${ERROR_HTTP_STATUS[c]} **${c}** ${ERROR_MESSAGES[c]}`,
  ).join('\n');
  return (
    'Open-source Windows MDM server. Queue OMA-DM commands for Windows devices; devices receive ' +
    'them over SyncML (MS-MDM) and join through MS-MDE2 enrollment.\n\n' +
    'Every success is `{"status": true, "data": …}`; every error is ' +
    '`{"status": false, "error": {"code", "message"}}`, and a 5091 or 4009 may add ' +
    '`"details": [{"field", "message"}]`. 3001 names what is missing (`Device not found`), 4003 ' +
    'the permission required (`Permission denied: mdm.windows.device.get required`). Codes:\n\n' +
    `${codes}\n\n` +
    'Mint a local token with `npm run --silent token -- --sub me --org "*" --permissions "*"` and ' +
    'paste it into Authorize.'
  );
}

/**
 * The device protocols are served to devices on the device listener (PUBLIC_BASE_URL), which
 * proves who they are by TLS client certificate or enrollment credentials: their operations
 * say so with their own `servers`, apart from the admin API's.
 */
function pointDeviceProtocolsAtDeviceListener(document: OpenAPIObject, config: AppConfig): void {
  const server = {
    url: config.device.publicBaseUrl,
    description: 'Device listener (DEVICE_PORT, HTTPS; PUBLIC_BASE_URL)',
  };
  for (const [path, item] of Object.entries(document.paths)) {
    if (!DEVICE_PATH_ROOTS.some((root) => path.startsWith(`${root}/`))) continue;
    for (const method of ['get', 'post'] as const) {
      const operation = item[method];
      if (operation) operation.servers = [server];
    }
  }
}

/** Swagger UI at /docs, the OpenAPI JSON at /docs-json, with Bearer auth in the UI. */
export function setupSwagger(app: INestApplication, config: AppConfig): void {
  const builder = new DocumentBuilder()
    .setTitle('mullion')
    .setDescription(description())
    .setVersion('0.1.0')
    // Relative: Swagger UI calls the server that serves it, whatever HOST, PORT or proxy it sits behind.
    .addServer('/', 'Admin API (the server serving this document: HOST:PORT)')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .addTag(
      DEVICE_PROTOCOLS_TAG,
      'For Windows devices, not administrators: served on the device HTTPS listener ' +
        `(${config.device.publicBaseUrl}), authenticated by the TLS client certificate issued at ` +
        'enrollment or by enrollment credentials, never by a bearer token. Their bodies are ' +
        'SyncML or SOAP XML that only a device (or tools/simulator) can produce, so no example ' +
        'is given and "Try it out" is not meant for them.',
    )
    .build();
  const document = SwaggerModule.createDocument(app, builder);
  pointDeviceProtocolsAtDeviceListener(document, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
}
