import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Connection } from 'mongoose';
import { Public } from '../auth/auth.decorators';

@ApiTags('Health')
@Public()
@Controller('health')
export class HealthController {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  @Get()
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiResponse({ status: 200, schema: { example: { status: true, data: { status: 'ok' } } } })
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the store answers a ping (503 when it does not)' })
  @ApiResponse({ status: 200, schema: { example: { status: true, data: { status: 'ok', store: 'up' } } } })
  @ApiResponse({
    status: 503,
    schema: { example: { status: false, error: { code: 5003, message: 'Service unavailable' } } },
  })
  async ready(@Res({ passthrough: true }) res: Response) {
    try {
      const db = this.connection.db;
      if (!db || this.connection.readyState !== 1) throw new Error('not connected');
      await Promise.race([
        db.admin().ping(),
        new Promise((_, reject) => setTimeout(() => reject(new Error('ping timeout')), 2000)),
      ]);
      return { status: 'ok', store: 'up' };
    } catch {
      res.status(503);
      return { status: 'unavailable', store: 'down' };
    }
  }
}
