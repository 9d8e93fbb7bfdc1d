import { Controller, Get, HttpCode } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Connection } from 'mongoose';
import { Public } from '../auth/auth.decorators';
import { DomainError, ErrorCode } from '../common/errors';

@ApiTags('Health')
@Public()
@Controller('health')
export class HealthController {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  /**
   * Liveness only: 200 while the process serves HTTP, whatever the store's state (a process
   * manager must not restart the server because the store restarts). Readiness is /health/ready.
   */
  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers (200 even while the store is down)' })
  @ApiResponse({
    status: 200,
    description: 'The process is up',
    schema: { example: { status: true, data: { status: 'ok' } } },
  })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the store answers a ping (503 when it does not)' })
  @ApiResponse({
    status: 200,
    description: 'The store answered a ping within 2 s',
    schema: { example: { status: true, data: { status: 'ok', store: 'up' } } },
  })
  @ApiResponse({
    status: 503,
    description: 'The store did not answer; Retry-After says when to ask again',
    schema: { example: { status: false, error: { code: 5003, message: 'Service unavailable' } } },
  })
  async ready() {
    let timer: NodeJS.Timeout | undefined;
    try {
      // Not readyState: it lags behind a restarted store until the driver's next heartbeat,
      // while a ping makes the driver look at once.
      const db = this.connection.db;
      if (!db) throw new Error('not connected');
      await Promise.race([
        db.admin().ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('ping timeout')), 2000);
        }),
      ]);
    } catch {
      // Rendered by the global filter as 503 {status: false, error: {code: 5003, …}}.
      throw new DomainError(ErrorCode.StoreUnavailable);
    } finally {
      clearTimeout(timer);
    }
    return { status: 'ok', store: 'up' };
  }
}
