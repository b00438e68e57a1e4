import { nodes, runsOnNodes, type Db, type NodeState } from '@sie/db';
import { expectedRunFps } from '@sie/pipeline';
import { and, eq, inArray } from 'drizzle-orm';

/** A node's operator state and capacity override (`nodes` table); no row: ready, no override. */
export interface NodeSetting {
  state: NodeState;
  capacityFps: number | null;
  message: string | null;
}

/** What the fleet looks like to one placement: operator states and the runs each node holds. */
export interface FleetSnapshot {
  settings: ReadonlyMap<string, NodeSetting>;
  /** Per node: the expected fps of every run holding a place there. */
  runs: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/**
 * The fleet's state in Postgres: the operator's node states (drain/resume) and the runs placed on
 * each node, whose expected rates are what admission control adds up.
 */
export class Fleet {
  constructor(private readonly db: Db) {}

  async load(): Promise<FleetSnapshot> {
    const [rows, held] = await Promise.all([this.db.select().from(nodes), runsOnNodes(this.db)]);
    const settings = new Map<string, NodeSetting>();
    for (const r of rows) {
      settings.set(r.nodeId, { state: r.state, capacityFps: r.capacityFps, message: r.message });
    }
    const runs = new Map<string, Map<string, number>>();
    for (const r of held) {
      let m = runs.get(r.nodeId);
      if (!m) runs.set(r.nodeId, (m = new Map()));
      m.set(r.runId, expectedRunFps(r.pipelineConfig));
    }
    return { settings, runs };
  }

  /** Says why a drain waits (or clears it); only while the node is still draining. */
  async setMessage(nodeId: string, message: string | null): Promise<void> {
    await this.db
      .update(nodes)
      .set({ message })
      .where(and(eq(nodes.nodeId, nodeId), eq(nodes.state, 'draining')));
  }

  /** `draining → drained` for nodes that hold no run any more. */
  async markDrained(nodeIds: readonly string[]): Promise<string[]> {
    if (nodeIds.length === 0) return [];
    const rows = await this.db
      .update(nodes)
      .set({ state: 'drained', message: null })
      .where(and(inArray(nodes.nodeId, [...nodeIds]), eq(nodes.state, 'draining')))
      .returning({ nodeId: nodes.nodeId });
    return rows.map((r) => r.nodeId);
  }
}

/** Nodes whose operator state keeps new runs off them. */
export function unschedulableNodes(snapshot: FleetSnapshot): Set<string> {
  const out = new Set<string>();
  for (const [nodeId, s] of snapshot.settings) if (s.state !== 'ready') out.add(nodeId);
  return out;
}

export interface AdmissionInput {
  /** The node's capacity in fps (0: not stated, nothing is refused). */
  capacityFps: number;
  /** Expected fps of the runs it holds (and placements in flight). */
  usedFps: number;
  /** Expected fps of the run to place. */
  runFps: number;
}

/** Admission control: whether a run fits on a node without taking it past its capacity. */
export function admits(input: AdmissionInput): boolean {
  if (!(input.capacityFps > 0)) return true;
  return input.usedFps + input.runFps <= input.capacityFps + 1e-6;
}

/** Sum of a node's expected fps: the runs the database shows plus placements in flight. */
export function usedFpsOf(
  held: ReadonlyMap<string, number> | undefined,
  inFlight: ReadonlyMap<string, number> | undefined,
): number {
  let sum = 0;
  for (const [runId, fps] of held ?? []) if (!inFlight?.has(runId)) sum += fps;
  for (const fps of inFlight?.values() ?? []) sum += fps;
  return sum;
}
