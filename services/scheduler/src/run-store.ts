import {
  models,
  outbox,
  pipelines,
  runTransitions,
  runs,
  type Db,
  type Model,
  type Pipeline,
  type Run,
  type RunStatus,
} from '@sie/db';
import { StaleRunError, transitionRun, type TransitionResult } from '@sie/lifecycle';
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import {
  SUPERVISED_STATUSES,
  claimCondition,
  moveCondition,
  leaseFree,
  leaseUntil,
  type ClaimKind,
} from './claims.js';

/** What this scheduler saw of a run; every write it makes is checked against it. */
export interface RunView {
  id: string;
  tenantId: string;
  status: RunStatus;
  generation: number;
}

export function viewOf(run: Run): RunView {
  return {
    id: run.id,
    tenantId: run.tenantId,
    status: run.status,
    generation: run.leaseGeneration,
  };
}

export interface TransitionOptions {
  reason?: string;
  message?: string;
  attempt?: number;
  set?: Partial<typeof runs.$inferInsert>;
  /**
   * `owner` (default): only while this scheduler holds the lease, which it extends;
   * `take`: takes the lease whoever holds it (a stage report proved the run's state);
   * `any`: status and generation only (reports that end the run).
   */
  lease?: 'owner' | 'take' | 'any';
}

export interface RenewEntry {
  id: string;
  generation: number;
  forMs: number;
}

/**
 * The scheduler's reads and writes of the runs table. Every write is compare-and-set on the run's
 * status and lease generation, and (unless stated) on this scheduler still owning the lease, so a
 * scheduler that lost a run cannot act on it.
 */
export class RunStore {
  constructor(
    private readonly db: Db,
    private readonly me: string,
    private readonly leaseMs: number,
  ) {}

  get actor(): string {
    return `scheduler:${this.me}`;
  }

  /**
   * Claims up to `limit` runs of one kind: `SELECT … FOR UPDATE SKIP LOCKED` (so schedulers
   * polling at once never get the same row), then this scheduler's lease on each, in one
   * transaction.
   */
  async claim(kind: ClaimKind, limit: number, busy: readonly string[] = []): Promise<Run[]> {
    if (limit <= 0) return [];
    return this.db.transaction(async (tx) => {
      const picked = await tx
        .select({ id: runs.id })
        .from(runs)
        .where(claimCondition(kind, this.me, busy))
        .orderBy(asc(runs.createdAt), asc(runs.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      if (picked.length === 0) return [];
      return tx
        .update(runs)
        .set({ leaseOwner: this.me, leaseExpiresAt: leaseUntil(this.leaseMs) })
        .where(
          inArray(
            runs.id,
            picked.map((p) => p.id),
          ),
        )
        .returning();
    });
  }

  /** Claims up to `limit` active runs on the draining `nodeIds` to move them elsewhere. */
  async claimMoves(
    nodeIds: readonly string[],
    limit: number,
    busy: readonly string[] = [],
  ): Promise<Run[]> {
    if (limit <= 0 || nodeIds.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const picked = await tx
        .select({ id: runs.id })
        .from(runs)
        .where(moveCondition(this.me, nodeIds, busy))
        .orderBy(asc(runs.createdAt), asc(runs.id))
        .limit(limit)
        .for('update', { skipLocked: true });
      if (picked.length === 0) return [];
      return tx
        .update(runs)
        .set({ leaseOwner: this.me, leaseExpiresAt: leaseUntil(this.leaseMs) })
        .where(
          inArray(
            runs.id,
            picked.map((p) => p.id),
          ),
        )
        .returning();
    });
  }

  /**
   * Commits a move: the run (still `active`, at `view.generation`, held by this scheduler) now
   * runs on `nodeId` at `generation`; the new generation fences every command and report of the
   * old placement. Recorded as an `active → active` transition with reason `moved`.
   */
  async move(view: RunView, nodeId: string, generation: number, message: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const rows = await tx
        .update(runs)
        .set({ nodeId, leaseGeneration: generation, leaseExpiresAt: leaseUntil(this.leaseMs) })
        .where(
          and(
            eq(runs.id, view.id),
            eq(runs.status, view.status),
            eq(runs.leaseGeneration, view.generation),
            eq(runs.leaseOwner, this.me),
          ),
        )
        .returning({ id: runs.id });
      if (rows.length === 0) {
        throw new StaleRunError(
          view.id,
          `${view.status} at generation ${view.generation} held by ${this.me}`,
        );
      }
      await tx.insert(runTransitions).values({
        runId: view.id,
        fromStatus: view.status,
        toStatus: view.status,
        reasonCode: 'moved',
        message,
        generation,
        actor: this.actor,
      });
    });
  }

  async get(id: string): Promise<Run | undefined> {
    const [row] = await this.db.select().from(runs).where(eq(runs.id, id));
    return row;
  }

  async startContext(run: Run): Promise<{ pipeline: Pipeline; model: Model | undefined }> {
    const [pipeline] = await this.db
      .select()
      .from(pipelines)
      .where(eq(pipelines.id, run.pipelineId));
    if (!pipeline)
      throw new StaleRunError(run.id, `a run of an existing pipeline (${run.pipelineId})`);
    const [model] = await this.db.select().from(models).where(eq(models.id, pipeline.modelId));
    return { pipeline, model };
  }

  /**
   * Moves a run `view.status → to` (recorded with its outbox row by @sie/lifecycle) in one
   * transaction, after checking (and locking) that the run is still as seen and, by default, ours.
   * Throws StaleRunError when it is not.
   */
  async transition(
    view: RunView,
    to: RunStatus,
    options: TransitionOptions = {},
  ): Promise<TransitionResult> {
    const lease = options.lease ?? 'owner';
    return this.db.transaction(async (tx) => {
      if (lease !== 'any') {
        const locked = await tx
          .update(runs)
          .set({ leaseOwner: this.me, leaseExpiresAt: leaseUntil(this.leaseMs) })
          .where(
            and(
              eq(runs.id, view.id),
              eq(runs.status, view.status),
              eq(runs.leaseGeneration, view.generation),
              lease === 'owner' ? eq(runs.leaseOwner, this.me) : undefined,
            ),
          )
          .returning({ id: runs.id });
        if (locked.length === 0) {
          throw new StaleRunError(
            view.id,
            `${view.status} at generation ${view.generation}${lease === 'owner' ? ` held by ${this.me}` : ''}`,
          );
        }
      }
      return transitionRun(tx, {
        runId: view.id,
        tenantId: view.tenantId,
        from: view.status,
        to,
        generation: view.generation,
        reason: options.reason,
        message: options.message,
        attempt: options.attempt,
        actor: this.actor,
        set: options.set,
      });
    });
  }

  /**
   * Lets go of a run this scheduler cannot progress now (e.g. no node has room), with a message
   * for the client; any scheduler may claim it again.
   */
  async release(view: RunView, message: string, reasonCode?: string): Promise<boolean> {
    const rows = await this.db
      .update(runs)
      .set({
        leaseOwner: null,
        leaseExpiresAt: null,
        reasonMessage: message,
        ...(reasonCode ? { reasonCode } : {}),
      })
      .where(
        and(
          eq(runs.id, view.id),
          eq(runs.status, view.status),
          eq(runs.leaseGeneration, view.generation),
          eq(runs.leaseOwner, this.me),
        ),
      )
      .returning({ id: runs.id });
    return rows.length > 0;
  }

  /**
   * Marks unclaimed runs waiting for placement with `message` (when no node has room), without
   * touching runs another scheduler is working on.
   */
  async markWaiting(message: string, limit: number): Promise<number> {
    const rows = await this.db.execute<{ id: string }>(sql`
      update ${runs} set reason_message = ${message}, updated_at = now()
      where ${runs.id} in (
        select ${runs.id} from ${runs}
        where ${runs.status} = 'init_startup' and ${runs.desiredState} = 'running'
          and ${leaseFree()}
          and ${runs.reasonMessage} is distinct from ${message}
        order by ${runs.createdAt}
        limit ${limit}
        for update skip locked
      )
      returning ${runs.id}`);
    return rows.rows.length;
  }

  /**
   * Extends leases in one statement: each run's lease goes to `now() + forMs` (never shortened)
   * while the run is still at the generation, supervised and owned by this scheduler. Returns the
   * ids renewed; the others are no longer ours to renew.
   */
  async renew(entries: readonly RenewEntry[]): Promise<Set<string>> {
    if (entries.length === 0) return new Set();
    const ids = entries.map((e) => e.id);
    const gens = entries.map((e) => e.generation);
    const forMs = entries.map((e) => Math.max(0, Math.round(e.forMs)));
    const statuses = sql.raw(SUPERVISED_STATUSES.map((s) => `'${s}'`).join(', '));
    const rows = await this.db.execute<{ id: string }>(sql`
      update ${runs} as r
      set lease_expires_at = greatest(r.lease_expires_at, now() + v.ms * interval '1 millisecond')
      from unnest(${sql.param(ids)}::text[], ${sql.param(gens)}::bigint[], ${sql.param(forMs)}::integer[])
        as v(id, gen, ms)
      where r.id = v.id and r.lease_generation = v.gen and r.lease_owner = ${this.me}
        and r.status in (${statuses})
      returning r.id`);
    return new Set(rows.rows.map((r) => r.id));
  }

  /** Keeps the lease of runs this scheduler is working on (placing, stopping) from running out. */
  async holdBusy(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(runs)
      .set({ leaseExpiresAt: leaseUntil(this.leaseMs) })
      .where(and(inArray(runs.id, [...ids]), eq(runs.leaseOwner, this.me)));
  }

  async countByStatus(): Promise<Array<{ status: string; n: number }>> {
    const rows = await this.db
      .select({ status: runs.status, n: sql<number>`count(*)::int` })
      .from(runs)
      .groupBy(runs.status);
    return rows;
  }

  async outboxLag(): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(outbox)
      .where(isNull(outbox.publishedAt));
    return row?.n ?? 0;
  }
}
