import { Inject, Injectable } from '@nestjs/common';
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError, ErrorCode } from '../common/errors';
import type { AuthUser, MullionJwtClaims } from './auth-user';

function stringList(v: unknown): string[] | null {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return null;
  return v as string[];
}

/**
 * The verification key as a KeyObject, built once. Given a string, jsonwebtoken builds it again
 * for every token it verifies, by first trying to parse the string as a public key: for an HS256
 * secret that throws (a captured stack trace) before the secret key is made, ~1 ms of the main
 * thread per authenticated request (6 % of a POST of commands in bench:api's profile). Same rule:
 * a public key when the material parses as one, a secret otherwise.
 */
export function verificationKey(material: string): KeyObject {
  try {
    return createPublicKey(material);
  } catch {
    return createSecretKey(Buffer.from(material));
  }
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // passport-jwt hands the key to jsonwebtoken unchanged, which takes a KeyObject (the
      // strategy's types predate that).
      secretOrKey: verificationKey(
        (config.jwt.publicKey ?? config.jwt.secret) as string,
      ) as unknown as Buffer,
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
