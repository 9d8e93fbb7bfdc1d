import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError, ErrorCode } from '../common/errors';
import type { AuthUser, MullionJwtClaims } from './auth-user';

function stringList(v: unknown): string[] | null {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return null;
  return v as string[];
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: (config.jwt.publicKey ?? config.jwt.secret) as string,
      algorithms: config.jwt.algorithms,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
    });
  }

  validate(payload: MullionJwtClaims): AuthUser {
    const orgs = typeof payload.orgs === 'string' ? [payload.orgs] : stringList(payload.orgs);
    const permissions = stringList(payload.permissions);
    // `exp` is required: a token that never expires is refused, not trusted forever.
    if (
      typeof payload.exp !== 'number' ||
      typeof payload.sub !== 'string' ||
      !payload.sub ||
      !orgs ||
      !permissions
    ) {
      throw new DomainError(ErrorCode.InvalidToken);
    }
    return { subject: payload.sub, organizations: orgs, permissions };
  }
}
