import type { INestApplication } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Db } from 'mongodb';
import type { Connection } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { isDuplicateKey } from './mongo-errors';

/**
 * One mullion instance per FerretDB store (docs/decisions.md §5, §22). FerretDB 1.24 applies an
 * update as read–modify–write without a transaction, so conditional updates are exact only while
 * one connection — one process — writes; a second instance on the same store would silently
 * break the per-device lock and every "did my conditional write win?". On MongoDB several
 * instances are the documented way to scale, and no lease is taken.
 */
export const INSTANCE_LEASE_COLLECTION = 'instance_leases';
const LEASE_ID = 'primary';

interface LeaseDoc {
  _id: string;
  holder: string;
  host: string;
  pid: number;
  startedAt: Date;
  expiresAt: Date;
}

export interface LeaseOptions {
  /** How long a lease lives without renewal: a crashed holder blocks others at most this long. */
  ttlMs?: number;
  renewMs?: number;
  /** Called once when a renewal finds the lease taken by someone else (or gone). */
  onLost?: (why: string) => void;
  now?: () => Date;
}

export interface InstanceLease {
  holder: string;
  /** Stops renewing and gives the lease up (only if still ours). */
  release(): Promise<void>;
}

export class InstanceLeaseHeldError extends Error {
  override readonly name = 'InstanceLeaseHeldError';
  constructor(readonly current: Omit<LeaseDoc, '_id'>) {
    super(
      `Another mullion instance uses this FerretDB store: ${current.host} pid ${current.pid} ` +
        `(since ${current.startedAt.toISOString()}, lease until ${current.expiresAt.toISOString()}). ` +
        'The embedded FerretDB store serves one instance; to run several instances, use MongoDB ' +
        '(set MONGODB_URI).',
    );
  }
}

/**
 * A holder on this host whose process is gone (killed, or stopped with its store before it could
 * release): a restart need not wait for the lease to expire. Another host's holder, or a live
 * pid, only expiry frees.
 */
function holderDied(lease: LeaseDoc): boolean {
  if (lease.host !== hostname() || lease.pid === process.pid) return false;
  try {
    process.kill(lease.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** FerretDB answers buildInfo with its own `ferretdbVersion` besides the MongoDB version it mimics. */
export async function isFerretDb(db: Db): Promise<boolean> {
  const info = await db.command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string';
}

/**
 * On FerretDB, takes the store's instance lease or throws InstanceLeaseHeldError naming its
 * holder; on MongoDB, answers null. The lease is a document with a fixed `_id`, so taking it is
 * an insert — the one write FerretDB arbitrates across connections (a unique key) — and an
 * expired lease (a holder that died without releasing) is removed before inserting again.
 */
export async function takeInstanceLease(
  db: Db,
  opts: LeaseOptions = {},
): Promise<InstanceLease | null> {
  if (!(await isFerretDb(db))) return null;
  const ttlMs = opts.ttlMs ?? 15_000;
  const renewMs = opts.renewMs ?? 5_000;
  const now = opts.now ?? (() => new Date());
  const leases = db.collection<LeaseDoc>(INSTANCE_LEASE_COLLECTION);
  const holder = randomUUID();
  const startedAt = now();
  const fresh = (): LeaseDoc => ({
    _id: LEASE_ID,
    holder,
    host: hostname(),
    pid: process.pid,
    startedAt,
    expiresAt: new Date(now().getTime() + ttlMs),
  });
  for (let attempt = 0; ; attempt++) {
    try {
      await leases.insertOne(fresh());
      break;
    } catch (e) {
      if (!isDuplicateKey(e)) throw e;
    }
    const current = await leases.findOne({ _id: LEASE_ID });
    if (current && (attempt > 0 || (current.expiresAt > now() && !holderDied(current)))) {
      throw new InstanceLeaseHeldError(current);
    }
    if (current) {
      await leases.deleteOne({ _id: LEASE_ID, holder: current.holder });
    }
  }

  let stopped = false;
  const renew = async () => {
    try {
      const r = await leases.updateOne(
        { _id: LEASE_ID, holder },
        { $set: { expiresAt: new Date(now().getTime() + ttlMs) } },
      );
      if (r.matchedCount === 0 && !stopped) {
        stop();
        opts.onLost?.('the instance lease was taken over or removed');
      }
    } catch {
      // The store is unreachable: the next tick tries again; the lease outlives a few misses.
    }
  };
  const timer = setInterval(() => void renew(), renewMs);
  // The lease never keeps the process alive on its own.
  timer.unref();
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  return {
    holder,
    async release() {
      if (stopped) return;
      stop();
      await leases.deleteOne({ _id: LEASE_ID, holder }).catch(() => undefined);
    },
  };
}

/**
 * The instance lease for an application's store connection; renewal stops when the connection
 * closes (app.close()), and the caller releases it on shutdown.
 */
export async function holdInstanceLease(
  app: INestApplication,
  opts: LeaseOptions = {},
): Promise<InstanceLease | null> {
  const conn = app.get<Connection>(getConnectionToken());
  await conn.asPromise();
  const lease = await takeInstanceLease(conn.db as Db, opts);
  if (lease) conn.once('close', () => void lease.release());
  return lease;
}

/**
 * A background job's lease, so one instance at a time runs it (on MongoDB several instances may
 * run; on FerretDB there is one, and the lease costs one write per run). The lease is the
 * document `job:<name>` in the same collection: renewed by its holder, taken over once expired,
 * created by an insert when absent (a unique `_id` arbitrates two first takers). True when
 * `holder` holds it until `now + ttlMs`.
 */
export async function takeJobLease(
  db: Db,
  job: string,
  holder: string,
  ttlMs: number,
  now = new Date(),
): Promise<boolean> {
  const leases = db.collection<LeaseDoc>(INSTANCE_LEASE_COLLECTION);
  const _id = `job:${job}`;
  const expiresAt = new Date(now.getTime() + ttlMs);
  const taken = await leases.updateOne(
    { _id, $or: [{ holder }, { expiresAt: { $lte: now } }] },
    { $set: { holder, host: hostname(), pid: process.pid, startedAt: now, expiresAt } },
  );
  if (taken.matchedCount === 1) return true;
  try {
    await leases.insertOne({
      _id,
      holder,
      host: hostname(),
      pid: process.pid,
      startedAt: now,
      expiresAt,
    });
    return true;
  } catch (e) {
    if (isDuplicateKey(e)) return false;
    throw e;
  }
}

/** Gives a job's lease up early (only if `holder` still holds it). */
export async function releaseJobLease(db: Db, job: string, holder: string): Promise<void> {
  await db.collection<LeaseDoc>(INSTANCE_LEASE_COLLECTION).deleteOne({ _id: `job:${job}`, holder });
}
