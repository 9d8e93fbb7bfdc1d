import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '../common/errors';
import { Authenticated, Public } from './auth.decorators';
import type { AuthUser } from './auth-user';
import { Permission } from './permissions';
import { PermissionsGuard } from './permissions.guard';

class Routes {
  @Authenticated(Permission.DeviceGet)
  read() {}
  @Public()
  open() {}
  undeclared() {}
}

function context(handler: keyof Routes, user?: Partial<AuthUser>): ExecutionContext {
  const req = {
    user: user && { subject: 'u', organizations: ['*'], permissions: [], ...user },
  };
  return {
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

function refusal(handler: keyof Routes, user?: Partial<AuthUser>) {
  try {
    new PermissionsGuard(new Reflector()).canActivate(context(handler, user));
    return null;
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, message: e.message };
    throw e;
  }
}

describe('PermissionsGuard', () => {
  it('lets the permission, its family wildcard and * through', () => {
    for (const permissions of [['mdm.windows.device.get'], ['mdm.windows.device.*'], ['*']])
      expect(refusal('read', { permissions })).toBeNull();
  });

  it('names the permission it refuses for', () => {
    expect(refusal('read', { permissions: ['mdm.windows.device.list'] })).toEqual({
      code: 4003,
      message: 'Permission denied: mdm.windows.device.get required',
    });
  });

  it('lets anyone through a @Public() route', () => {
    expect(refusal('open')).toBeNull();
  });

  it('refuses a route that declares no permission, whatever the token holds (fail closed)', () => {
    expect(refusal('undeclared', { permissions: ['*'] })).toEqual({
      code: 4003,
      message: 'Permission denied',
    });
  });

  it('answers 4002 when no user reached it', () => {
    expect(refusal('read')).toEqual({ code: 4002, message: 'No auth token' });
  });
});
