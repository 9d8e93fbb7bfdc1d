import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { DomainError, ErrorCode } from '../common/errors';
import { IS_PUBLIC, REQUIRED_PERMISSIONS } from './auth.decorators';
import { AuthUser, hasPermission } from './auth-user';

/** Global guard after JwtAuthGuard: the token must carry every permission the route declares. */
@Injectable()
export class PermissionsGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required =
      this.reflector.getAllAndOverride<string[]>(REQUIRED_PERMISSIONS, targets) ?? [];
    const user = context.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
    if (!user) throw new DomainError(ErrorCode.NoAuthToken);
    if (!required.every((p) => hasPermission(user, p)))
      throw new DomainError(ErrorCode.PermissionDenied);
    return true;
  }
}
