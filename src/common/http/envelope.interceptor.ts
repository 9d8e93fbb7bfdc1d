import {
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { map, Observable } from 'rxjs';

export const RAW_RESPONSE = 'mullion:rawResponse';
/** The handler writes its own body (XML, SOAP, probes): no `{status, data}` envelope. */
export const RawResponse = () => SetMetadata(RAW_RESPONSE, true);

/** Wraps every JSON success as `{status: true, data}` (DESIGN.md "Errors"). */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const raw = this.reflector.getAllAndOverride<boolean>(RAW_RESPONSE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (raw) return next.handle();
    return next.handle().pipe(map((data: unknown) => ({ status: true, data })));
  }
}
