import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport from 'passport';
import { DomainError, ErrorCode } from '../common/errors';
import { IS_PUBLIC } from './auth.decorators';
import type { AuthUser } from './auth-user';
import { JwtStrategy } from './jwt.strategy';

/** Global guard: every route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: JwtStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { user?: AuthUser }>();
    const res = http.getResponse<Response>();
    // This app's own strategy instance, not passport's process-global registry by name: a second
    // app in the same process (tests, tools) would otherwise replace this one's key, issuer and
    // audience. A fresh object per request, because passport binds success/fail onto it.
    const strategy = Object.create(this.strategy) as JwtStrategy;
    req.user = await new Promise<AuthUser>((resolve, reject) => {
      passport.authenticate(
        strategy,
        { session: false },
        (err: unknown, user: AuthUser | false, info: unknown) => {
          try {
            resolve(this.handleRequest(err, user, info));
          } catch (e) {
            reject(e);
          }
        },
      )(req, res, (err?: unknown) => reject(err ?? new DomainError(ErrorCode.InvalidToken)));
    });
    return true;
  }

  handleRequest(err: unknown, user: AuthUser | false, info: unknown): AuthUser {
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
