/**
 * Run states a fault must never leave behind, checked in the database and on the node: an
 * `active` run without a node or lease, a history whose steps the state machine forbids or do
 * not chain, a run a stage runs twice, or a stage still running a run that is not active.
 */
import { controlSubject } from '@sie/bus';
import { NodePingRequest, NodeStatus } from '@sie/contracts';
import { runTransitions } from '@sie/db';
import { canTransition } from '@sie/lifecycle';
import { asc, inArray } from 'drizzle-orm';
import type { FaultStack } from './stack.js';

const LIVE = new Set(['active', 'in_startup_processing']);

export async function stateProblems(
  stack: FaultStack,
  runIds: string[],
  expectActive: string[] = runIds,
): Promise<string[]> {
  const problems: string[] = [];
  const rows = await stack.runs(runIds);
  const history = await stack.db.db
    .select()
    .from(runTransitions)
    .where(inArray(runTransitions.runId, runIds))
    .orderBy(asc(runTransitions.id));
  for (const run of rows) {
    if (LIVE.has(run.status) && (!run.nodeId || !run.leaseOwner || !run.leaseExpiresAt)) {
      problems.push(`${run.id} is ${run.status} without node/lease`);
    }
    if (expectActive.includes(run.id) && run.status !== 'active') {
      problems.push(`${run.id} is ${run.status}/${run.reasonCode}, expected active`);
    }
    const steps = history.filter((h) => h.runId === run.id);
    steps.forEach((h, i) => {
      const prev = steps[i - 1];
      if (i === 0) {
        if (h.fromStatus !== null) problems.push(`${run.id}: history starts at ${h.fromStatus}`);
        return;
      }
      if (!prev || h.fromStatus !== prev.toStatus || !h.fromStatus) {
        problems.push(`${run.id}: step ${prev?.toStatus} then ${h.fromStatus}→${h.toStatus}`);
      } else if (!canTransition(h.fromStatus, h.toStatus)) {
        problems.push(`${run.id}: forbidden ${h.fromStatus}→${h.toStatus}`);
      }
      if (prev && h.generation < prev.generation) problems.push(`${run.id}: generation went back`);
    });
    const last = steps[steps.length - 1];
    if (last?.toStatus !== run.status) {
      problems.push(`${run.id}: status ${run.status} but last transition ${last?.toStatus}`);
    }
  }
  // Each stage of the node runs every active run once, and nothing that is not live.
  const live = new Set(rows.filter((r) => LIVE.has(r.status)).map((r) => r.id));
  for (const stage of ['ingest', 'rules', 'render'] as const) {
    const status = await stack.bus.request(
      controlSubject(stack.nodeId, stage, 'ping'),
      NodePingRequest,
      {},
      NodeStatus,
      5000,
    );
    const ours = status.runIds.filter((id) => runIds.includes(id));
    if (new Set(ours).size !== ours.length) problems.push(`${stage} runs a run twice: ${ours}`);
    for (const id of ours) if (!live.has(id)) problems.push(`${stage} still runs ${id}`);
    for (const id of expectActive) {
      if (!ours.includes(id)) problems.push(`${stage} does not run active ${id}`);
    }
  }
  return problems;
}

/** Waits (up to `timeoutMs`, for stops in flight) until no problem is left; throws the last ones. */
export async function assertConsistent(
  stack: FaultStack,
  runIds: string[],
  expectActive: string[] = runIds,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems = await stateProblems(stack, runIds, expectActive).catch((err: unknown) => [
      `check failed: ${String(err)}`,
    ]);
    if (problems.length === 0) return;
    if (Date.now() > deadline) throw new Error(`inconsistent run state: ${problems.join('; ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
