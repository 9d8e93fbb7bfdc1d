import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { DomainError, ErrorCode, permissionDeniedMessage } from '../common/errors';
import { IS_PUBLIC, REQUIRED_PERMISSION } from './auth.decorators';
import { AuthUser, hasPermission } from './auth-user';

/** Global guard after JwtAuthGuard: the token must carry the permission the route declares. */
@Injectable()
export class PermissionsGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride<string>(REQUIRED_PERMISSION, targets);
    const user = context.switchToHttp().getRequest<Request & { user?: AuthUser }>().user;
    if (!user) throw new DomainError(ErrorCode.NoAuthToken);
    // Fail closed: a route that is neither @Public() nor @Authenticated(…) serves no one.
    if (!required) throw new DomainError(ErrorCode.PermissionDenied);
    if (!hasPermission(user, required)) {
      // Naming the permission tells the caller which one to ask for; it reveals nothing the
      // README's endpoint table does not.
      throw new DomainError(ErrorCode.PermissionDenied, permissionDeniedMessage(required));
    }
    return true;
  }
}
