import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError, ErrorCode } from '../common/errors';
import { IS_PUBLIC } from './auth.decorators';
import type { AuthUser } from './auth-user';

/** Global guard: every route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context);
  }

  override handleRequest<TUser = AuthUser>(err: unknown, user: TUser | false, info: unknown): TUser {
    if (err instanceof DomainError) throw err;
    if (user) return user;
    // passport-jwt reports a missing header as Error('No auth token'); everything else
    // (bad signature, expired, malformed, alg none, wrong issuer/audience) is an invalid token.
    if (info instanceof Error && info.message === 'No auth token') {
      throw new DomainError(ErrorCode.NoAuthToken);
    }
    throw new DomainError(ErrorCode.InvalidToken);
  }
}
