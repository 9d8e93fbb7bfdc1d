import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from './auth-user';

export const IS_PUBLIC = 'mullion:isPublic';
export const REQUIRED_PERMISSIONS = 'mullion:requiredPermissions';

/** The route needs no bearer token (health, docs, device-facing protocols). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The route needs every listed permission (e.g. `mdm.windows.command.create`). */
export const RequirePermissions = (...permissions: string[]) =>
  SetMetadata(REQUIRED_PERMISSIONS, permissions);

export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthUser => {
    return ctx.switchToHttp().getRequest<Request & { user: AuthUser }>().user;
  },
);
