import { runStatusSubject } from '@sie/bus';
import { RunStatusChange } from '@sie/contracts';
import { outbox, runTransitions, runs, type Db, type RunStatus } from '@sie/db';
import { and, eq, sql } from 'drizzle-orm';
import { IllegalTransitionError, StaleRunError } from './errors.js';
import { canTransition, isTerminal, runStateOf } from './machine.js';

/** A transaction or the db itself: transitions are written inside the caller's transaction. */
export type DbTx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

export interface TransitionInput {
  runId: string;
  tenantId: string;
  /** The state the caller saw; the write only happens if the run is still in it. */
  from: RunStatus;
  to: RunStatus;
  /** The generation the caller saw; the write only happens if it is unchanged. */
  generation: number;
  /** Stable reason code (failed: one of REASON_CODES; otherwise e.g. `stop_requested`). */
  reason?: string;
  message?: string;
  /** `api`, `scheduler:<id>`, … */
  actor: string;
  attempt?: number;
  /** Extra column updates made with the transition (lease, node, counters). */
  set?: Partial<typeof runs.$inferInsert>;
}

export interface TransitionResult {
  transitionId: number;
  change: RunStatusChange;
}

/**
 * Moves a run from `from` to `to` with compare-and-set on (status, generation), records the
 * transition, and writes the status-change message to the outbox — all in the caller's
 * transaction, so the state, its history and its announcement commit or roll back together.
 */
export async function transitionRun(tx: DbTx, t: TransitionInput): Promise<TransitionResult> {
  if (!canTransition(t.from, t.to)) throw new IllegalTransitionError(t.runId, t.from, t.to);
  const now = new Date();
  const failed = t.to === 'failed';
  const updated = await tx
    .update(runs)
    .set({
      ...t.set,
      status: t.to,
      updatedAt: now,
      ...(failed || t.reason
        ? { reasonCode: t.reason ?? null, reasonMessage: t.message ?? null }
        : {}),
      ...(t.to === 'active' ? { startedAt: now } : {}),
      ...(isTerminal(t.to) ? { endedAt: now, leaseOwner: null, leaseExpiresAt: null } : {}),
    })
    .where(
      and(eq(runs.id, t.runId), eq(runs.status, t.from), eq(runs.leaseGeneration, t.generation)),
    )
    .returning({ id: runs.id, generation: runs.leaseGeneration });
  const row = updated[0];
  if (!row) throw new StaleRunError(t.runId, `${t.from} at generation ${t.generation}`);
  return record(tx, { ...t, generation: row.generation }, t.from, now);
}

/** Records a run's creation (no previous state) with its outbox message. */
export async function recordRunCreated(
  tx: DbTx,
  run: { runId: string; tenantId: string; actor: string },
): Promise<TransitionResult> {
  return record(
    tx,
    { ...run, from: 'init_startup', to: 'init_startup', generation: 0, reason: 'created' },
    null,
    new Date(),
  );
}

async function record(
  tx: DbTx,
  t: TransitionInput,
  from: RunStatus | null,
  at: Date,
): Promise<TransitionResult> {
  const inserted = await tx
    .insert(runTransitions)
    .values({
      runId: t.runId,
      fromStatus: from,
      toStatus: t.to,
      reasonCode: t.reason ?? null,
      message: t.message ?? null,
      at,
      generation: t.generation,
      actor: t.actor,
    })
    .returning({ id: runTransitions.id });
  const transitionId = inserted[0]?.id;
  if (transitionId === undefined) throw new StaleRunError(t.runId, 'recordable');
  const dedupId = `status-${t.runId}-${transitionId}`;
  const change: RunStatusChange = {
    id: dedupId,
    runId: t.runId,
    tenantId: t.tenantId,
    from: runStateOf(from),
    to: runStateOf(t.to),
    reason: t.reason ?? '',
    message: t.message ?? '',
    atMs: at.getTime(),
    attempt: t.attempt ?? 0,
    generation: t.generation,
  };
  await tx.insert(outbox).values({
    subject: runStatusSubject(t.tenantId, t.runId),
    payload: Buffer.from(RunStatusChange.encode(change).finish()),
    dedupId,
  });
  return { transitionId, change };
}

/** Current database time, so every scheduler measures leases on one clock. */
export const dbNow = sql<Date>`now()`;
