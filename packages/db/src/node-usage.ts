import { and, inArray, isNotNull, eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { pipelines, runs } from './schema.js';
import type { RunStatus } from './vocabulary.js';

/** Statuses in which a run holds a place on its node (placed, running or being stopped there). */
export const NODE_HOLDING_STATUSES = [
  'in_startup_processing',
  'active',
  'init_shutdown',
  'in_shutdown_processing',
] as const satisfies readonly RunStatus[];

/** A run that holds a place on a node, with its pipeline's config (for its expected rate). */
export interface NodeRunRow {
  runId: string;
  nodeId: string;
  status: RunStatus;
  pipelineConfig: unknown;
}

/** Every run holding a place on a node (`nodeId` given: on that node only). */
export async function runsOnNodes(db: Db, nodeId?: string): Promise<NodeRunRow[]> {
  const rows = await db
    .select({
      runId: runs.id,
      nodeId: runs.nodeId,
      status: runs.status,
      pipelineConfig: pipelines.config,
    })
    .from(runs)
    .innerJoin(pipelines, eq(pipelines.id, runs.pipelineId))
    .where(
      and(
        inArray(runs.status, [...NODE_HOLDING_STATUSES]),
        isNotNull(runs.nodeId),
        nodeId === undefined ? undefined : eq(runs.nodeId, nodeId),
      ),
    );
  return rows.map((r) => ({ ...r, nodeId: r.nodeId ?? '' }));
}
