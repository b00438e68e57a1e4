import { runs, type Db, type RunStatus } from '@sie/db';
import { NotFoundError } from '@sie/errors';
import { isTerminal, transitionRun } from '@sie/lifecycle';
import { and, eq } from 'drizzle-orm';
import { ConflictError } from '../errors.js';

export interface StopOutcome {
  id: string;
  status: RunStatus;
  desiredState: 'running' | 'stopped';
}

/**
 * Asks for a run to stop: `desired_state = stopped`, which the scheduler acts on. A run no
 * scheduler has placed yet (`init_startup`) has nothing to tear down on a node, so it moves to
 * `init_shutdown` right here, in the same transaction, and the scheduler finishes the shutdown.
 * Stopping a run that is already stopping answers the same again; a finished run is a conflict.
 */
export async function stopRun(db: Db, tenantId: string, id: string): Promise<StopOutcome> {
  return db.transaction(async (tx) => {
    // FOR UPDATE: a scheduler claiming the run (SKIP LOCKED) passes it by, or we wait for it.
    const [run] = await tx
      .select({
        status: runs.status,
        desiredState: runs.desiredState,
        generation: runs.leaseGeneration,
      })
      .from(runs)
      .where(and(eq(runs.id, id), eq(runs.tenantId, tenantId)))
      .for('update');
    if (!run) throw new NotFoundError('run', id);
    if (isTerminal(run.status)) {
      throw new ConflictError(`run ${id} has already ended (${run.status})`, {
        status: run.status,
      });
    }
    if (run.status === 'init_startup') {
      await transitionRun(tx, {
        runId: id,
        tenantId,
        from: 'init_startup',
        to: 'init_shutdown',
        generation: run.generation,
        reason: 'stop_requested',
        message: 'stopped before it was placed',
        actor: 'api',
        set: { desiredState: 'stopped' },
      });
      return { id, status: 'init_shutdown', desiredState: 'stopped' };
    }
    if (run.desiredState !== 'stopped') {
      await tx
        .update(runs)
        .set({ desiredState: 'stopped', updatedAt: new Date() })
        .where(eq(runs.id, id));
    }
    return { id, status: run.status, desiredState: 'stopped' };
  });
}
