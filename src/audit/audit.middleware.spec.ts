import type { NextFunction, Request, Response } from 'express';
import type { AuthUser } from '../auth/auth-user';
import type { AdminWrite } from './admin-write';
import { AUDIT_WAIT_MS, AuditMiddleware } from './audit.middleware';
import type { AuditService } from './audit.service';

/** An audit store whose inserts finish only when the test says so. */
class HeldAudit {
  readonly writes: AdminWrite[] = [];
  private readonly releases: (() => void)[] = [];
  record(write: AdminWrite): Promise<void> {
    this.writes.push(write);
    return new Promise((done) => this.releases.push(done));
  }
  releaseAll(): void {
    for (const r of this.releases.splice(0)) r();
  }
}

function exchange(status: number) {
  const ends: unknown[][] = [];
  const res = {
    statusCode: status,
    getHeader: (name: string) => (name === 'content-type' ? 'application/json' : undefined),
    end: (...args: unknown[]) => {
      ends.push(args);
      return res;
    },
  };
  const req = {
    method: 'POST',
    route: { path: '/organizations' },
    baseUrl: '/v1',
    params: {},
    body: {},
    user: { subject: 'u', organizations: ['*'], permissions: ['*'] } satisfies AuthUser,
  };
  return { req, res, ends };
}

function answer(audit: HeldAudit, status: number) {
  const mw = new AuditMiddleware(audit as unknown as AuditService);
  const { req, res, ends } = exchange(status);
  const next: NextFunction = jest.fn();
  mw.use(req as unknown as Request & { user?: AuthUser }, res as unknown as Response, next);
  (res.end as (chunk: string) => unknown)('{"status":true}');
  return ends;
}

/** Lets settled promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('AuditMiddleware', () => {
  afterEach(() => jest.useRealTimers());

  it('holds the answer until its record is stored', async () => {
    const audit = new HeldAudit();
    const ends = answer(audit, 201);
    await settle();
    expect(ends).toHaveLength(0);
    audit.releaseAll();
    await settle();
    expect(ends).toEqual([['{"status":true}']]);
    expect(audit.writes[0]).toMatchObject({ status: 201, route: '/v1/organizations' });
  });

  it('answers after AUDIT_WAIT_MS when the store does not answer, and records later', async () => {
    jest.useFakeTimers();
    const audit = new HeldAudit();
    const ends = answer(audit, 201);
    await settle();
    jest.advanceTimersByTime(AUDIT_WAIT_MS - 1);
    await settle();
    expect(ends).toHaveLength(0);
    jest.advanceTimersByTime(1);
    await settle();
    expect(ends).toHaveLength(1);
    expect(audit.writes).toHaveLength(1);
    audit.releaseAll();
    await settle();
    expect(ends).toHaveLength(1);
  });

  it('does not wait for the record of a 503', () => {
    const audit = new HeldAudit();
    const ends = answer(audit, 503);
    expect(ends).toHaveLength(1);
    expect(audit.writes).toEqual([expect.objectContaining({ status: 503 })]);
  });
});
