import type { NodeStatus } from '@sie/contracts';

/** What one stage service of a node last announced, and when it was received (monotonic ms). */
export interface StagePresence {
  status: NodeStatus;
  receivedAt: number;
}

/** Every stage service of one node that announced itself. */
export interface NodeView {
  nodeId: string;
  stages: ReadonlyMap<string, StagePresence>;
}

export interface PlacementInput {
  nodes: Iterable<NodeView>;
  /** Stages the run needs; every one must be announced on the node. */
  stages: readonly string[];
  now: number;
  /** A stage silent for this long is gone; 0: three times its own announce interval. */
  silenceMs: number;
  /** Runs placed on a node that its announcements do not show yet (per node). */
  pending?: ReadonlyMap<string, number>;
  /** Nodes not to use at all (they refused this start already). */
  exclude?: ReadonlySet<string>;
  /** Nodes used only when nothing else fits (e.g. the node a restarted run left). */
  avoid?: ReadonlySet<string>;
}

export interface Candidate {
  nodeId: string;
  /** Runs it can still take: the least free stage, less pending placements. */
  free: number;
  /** Runs it holds: the busiest stage. */
  load: number;
}

/** Whether a stage's announcements are recent enough to trust. */
export function isPresent(p: StagePresence, now: number, silenceMs: number): boolean {
  const limit = silenceMs > 0 ? silenceMs : 3 * (p.status.announceIntervalMs || 2000);
  return now - p.receivedAt <= limit;
}

/**
 * The nodes a run can go to, best first: every required stage present with free capacity,
 * least loaded first (then most free, then by id so every scheduler ranks alike). Nodes to avoid
 * come last.
 */
export function rankNodes(input: PlacementInput): Candidate[] {
  const out: Array<Candidate & { avoided: boolean }> = [];
  for (const node of input.nodes) {
    if (input.exclude?.has(node.nodeId)) continue;
    let free = Number.POSITIVE_INFINITY;
    let load = 0;
    let complete = true;
    for (const stage of input.stages) {
      const p = node.stages.get(stage);
      if (!p || !isPresent(p, input.now, input.silenceMs)) {
        complete = false;
        break;
      }
      free = Math.min(free, p.status.capacity);
      load = Math.max(load, p.status.runIds.length);
    }
    if (!complete) continue;
    const pending = input.pending?.get(node.nodeId) ?? 0;
    free -= pending;
    load += pending;
    if (free <= 0) continue;
    out.push({ nodeId: node.nodeId, free, load, avoided: input.avoid?.has(node.nodeId) ?? false });
  }
  out.sort(
    (a, b) =>
      Number(a.avoided) - Number(b.avoided) ||
      a.load - b.load ||
      b.free - a.free ||
      (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0),
  );
  return out.map(({ nodeId, free, load }) => ({ nodeId, free, load }));
}

/** The best node for a run, or undefined when none has every stage with free capacity. */
export function chooseNode(input: PlacementInput): Candidate | undefined {
  return rankNodes(input)[0];
}

/**
 * Nodes and their stages as announced on `sie.node.<node>.<stage>`, plus the runs this scheduler
 * placed that the announcements do not show yet (so one poll does not overfill a node).
 */
export class NodeDirectory {
  private readonly nodes = new Map<string, Map<string, StagePresence>>();
  private readonly placed = new Map<string, Map<string, number>>();

  constructor(
    private readonly clock: () => number,
    private readonly silenceMs: number,
  ) {}

  update(status: NodeStatus): void {
    let stages = this.nodes.get(status.nodeId);
    if (!stages) this.nodes.set(status.nodeId, (stages = new Map()));
    stages.set(status.stage, { status, receivedAt: this.clock() });
    // Placements the node now shows (or that are old enough to have been refused) stop counting.
    const mine = this.placed.get(status.nodeId);
    if (mine) {
      const now = this.clock();
      const shown = new Set(status.runIds);
      for (const [runId, at] of mine) {
        if (shown.has(runId) || now - at > 2 * (status.announceIntervalMs || 2000)) {
          mine.delete(runId);
        }
      }
    }
  }

  /** Records a placement until the node's announcements include it. */
  notePlaced(nodeId: string, runId: string): void {
    let mine = this.placed.get(nodeId);
    if (!mine) this.placed.set(nodeId, (mine = new Map()));
    mine.set(runId, this.clock());
  }

  forgetPlaced(nodeId: string, runId: string): void {
    this.placed.get(nodeId)?.delete(runId);
  }

  /**
   * A stage that did not answer a command (no responder: its process died) is not placed on
   * again until it announces itself anew; its last announcement would otherwise count for a
   * few more intervals and every start meanwhile would fail the same way.
   */
  forgetStage(nodeId: string, stage: string): void {
    this.nodes.get(nodeId)?.delete(stage);
  }

  views(): NodeView[] {
    return [...this.nodes].map(([nodeId, stages]) => ({ nodeId, stages }));
  }

  pending(): Map<string, number> {
    return new Map([...this.placed].map(([node, runs]) => [node, runs.size]));
  }

  rank(
    stages: readonly string[],
    opts: { exclude?: ReadonlySet<string>; avoid?: ReadonlySet<string> } = {},
  ): Candidate[] {
    return rankNodes({
      nodes: this.views(),
      stages,
      now: this.clock(),
      silenceMs: this.silenceMs,
      pending: this.pending(),
      ...opts,
    });
  }

  /** The capacity in fps the node's ingest announces (0: not stated, or not announced). */
  capacityFps(nodeId: string): number {
    return this.nodes.get(nodeId)?.get('ingest')?.status.capacityFps ?? 0;
  }

  /** Whether `stage` of `nodeId` still announces itself. */
  present(nodeId: string, stage: string): boolean {
    const p = this.nodes.get(nodeId)?.get(stage);
    return p !== undefined && isPresent(p, this.clock(), this.silenceMs);
  }

  /** Nodes with at least one present stage; forgets stages silent for long. */
  knownNodes(): number {
    const now = this.clock();
    let n = 0;
    for (const [nodeId, stages] of this.nodes) {
      let any = false;
      for (const [stage, p] of stages) {
        if (isPresent(p, now, this.silenceMs)) any = true;
        else if (now - p.receivedAt > 10 * 60_000) stages.delete(stage);
      }
      if (stages.size === 0) this.nodes.delete(nodeId);
      if (any) n++;
    }
    return n;
  }

  /** Run ids a stage of a node announced (for tests and diagnostics). */
  runIdsOf(nodeId: string, stage: string): string[] {
    return this.nodes.get(nodeId)?.get(stage)?.status.runIds ?? [];
  }
}
