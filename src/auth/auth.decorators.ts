import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors, permissionError } from '../common/http/swagger';
import type { AuthUser } from './auth-user';
import type { Permission } from './permissions';

export const IS_PUBLIC = 'mullion:isPublic';
export const REQUIRED_PERMISSION = 'mullion:requiredPermission';

/** The route needs no bearer token (health, docs, device-facing protocols). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * The route needs a bearer token carrying `permission`. Also documents it for Swagger: the
 * bearer security, the permission (`x-permission`), and the 401 (4002, 4004) and 403 (4003)
 * answers every authenticated route can give.
 */
export const Authenticated = (permission: Permission) =>
  applyDecorators(
    SetMetadata(REQUIRED_PERMISSION, permission),
    ApiBearerAuth(),
    ApiExtension('x-permission', permission),
    ApiErrors(4002, 4004, permissionError(permission)),
  );

export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthUser => {
    return ctx.switchToHttp().getRequest<Request & { user: AuthUser }>().user;
  },
);
