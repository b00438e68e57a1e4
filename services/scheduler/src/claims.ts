import { runs } from '@sie/db';
import { and, eq, inArray, isNull, lt, notInArray, or, sql, type SQL } from 'drizzle-orm';

/**
 * The kinds of work a scheduler claims from the runs table:
 * - `shutdown`: runs to stop (asked to stop, ended, or a stop left half done);
 * - `expired`: running runs whose lease ran out (stages silent, or their scheduler died);
 * - `startup`: runs waiting to be placed on a node.
 */
export type ClaimKind = 'shutdown' | 'expired' | 'startup';
export const CLAIM_KINDS: readonly ClaimKind[] = ['shutdown', 'expired', 'startup'];

/** Database time; leases are measured on one clock whatever the schedulers' clocks say. */
export const dbNowSql = sql`now()`;

/** `now() + ms` on the database clock. */
export function leaseUntil(ms: number): SQL {
  return sql`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;
}

/** Nobody holds the run: no owner, or the owner's lease ran out. */
export function leaseFree(): SQL {
  return or(
    isNull(runs.leaseOwner),
    isNull(runs.leaseExpiresAt),
    lt(runs.leaseExpiresAt, dbNowSql),
  )!;
}

/** Free, or already held by this scheduler (`me`). */
export function leaseFreeOrMine(me: string): SQL {
  return or(leaseFree(), eq(runs.leaseOwner, me))!;
}

/**
 * The WHERE clause of a claim. `busy` lists runs this scheduler is working on right now: never
 * claimed again until that work is done.
 */
export function claimCondition(kind: ClaimKind, me: string, busy: readonly string[] = []): SQL {
  const notBusy = busy.length > 0 ? notInArray(runs.id, [...busy]) : undefined;
  switch (kind) {
    case 'shutdown':
      // Stops wait for the lease holder: a stop must never race a start of the same generation.
      return and(
        or(
          inArray(runs.status, ['init_shutdown', 'in_shutdown_processing']),
          and(
            eq(runs.desiredState, 'stopped'),
            inArray(runs.status, ['init_startup', 'in_startup_processing', 'active']),
          ),
        ),
        leaseFreeOrMine(me),
        notBusy,
      )!;
    case 'expired':
      return and(
        inArray(runs.status, ['in_startup_processing', 'active']),
        eq(runs.desiredState, 'running'),
        or(isNull(runs.leaseExpiresAt), lt(runs.leaseExpiresAt, dbNowSql)),
        notBusy,
      )!;
    case 'startup':
      return and(
        eq(runs.status, 'init_startup'),
        eq(runs.desiredState, 'running'),
        leaseFreeOrMine(me),
        notBusy,
      )!;
  }
}

/**
 * The WHERE clause of a move claim: running runs on the draining `nodeIds` that nobody else
 * holds (a run another scheduler supervises is moved by that one).
 */
export function moveCondition(
  me: string,
  nodeIds: readonly string[],
  busy: readonly string[] = [],
): SQL {
  return and(
    eq(runs.status, 'active'),
    eq(runs.desiredState, 'running'),
    inArray(runs.nodeId, [...nodeIds]),
    leaseFreeOrMine(me),
    busy.length > 0 ? notInArray(runs.id, [...busy]) : undefined,
  )!;
}

/** Statuses in which the lease owner renews the lease from the stages' heartbeats. */
export const SUPERVISED_STATUSES = ['in_startup_processing', 'active'] as const;
