import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Swagger UI at /docs, the OpenAPI JSON at /docs-json, with Bearer auth in the UI. */
export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('mullion')
    .setDescription(
      'Open-source Windows MDM server. Queue OMA-DM commands for Windows devices; devices receive ' +
        'them over SyncML (MS-MDM) and join through MS-MDE2 enrollment.\n\n' +
        'Every success is `{"status": true, "data": …}`; every error is ' +
        '`{"status": false, "error": {"code", "message", "details?"}}` with codes 3001 Entity not found, ' +
        '4002 No auth token, 4003 Permission denied, 4004 Invalid Token, 4009 Conflict, 5091 Invalid data, ' +
        '5142 Win Device not active.\n\n' +
        'Mint a local token with `npm run --silent token -- --sub me --org "*" --permissions "*"` and paste it ' +
        'into Authorize.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });
}
