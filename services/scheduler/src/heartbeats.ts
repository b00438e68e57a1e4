import { Stage, type Heartbeat } from '@sie/contracts';

const STAGE_NAMES: Partial<Record<Stage, string>> = {
  [Stage.STAGE_INGEST]: 'ingest',
  [Stage.STAGE_INFERENCE]: 'inference',
  [Stage.STAGE_RULES]: 'rules',
  [Stage.STAGE_RENDER]: 'render',
};

export function stageName(stage: Stage): string {
  return STAGE_NAMES[stage] ?? 'unknown';
}

interface Beat {
  generation: number;
  nodeId: string;
  at: number;
}

/**
 * The last heartbeat of every (run, stage), at the highest generation seen, by receipt time on
 * this scheduler's monotonic clock. Every scheduler keeps one (heartbeats are not load-balanced),
 * so whichever claims an expired run can judge whether its stages are alive.
 */
export class HeartbeatTable {
  private readonly beats = new Map<string, Map<string, Beat>>();
  /** Generations of a run that will never run (a move given up): their beats are ignored. */
  private readonly voided = new Map<string, Set<number>>();

  constructor(private readonly clock: () => number) {}

  record(hb: Pick<Heartbeat, 'runId' | 'stage' | 'generation' | 'nodeId'>): void {
    let stages = this.beats.get(hb.runId);
    if (!stages) this.beats.set(hb.runId, (stages = new Map()));
    if (this.voided.get(hb.runId)?.has(hb.generation)) return;
    const stage = stageName(hb.stage);
    const held = stages.get(stage);
    // An older generation's stage (a lost node coming back) never hides the current one.
    if (held && hb.generation < held.generation) return;
    stages.set(stage, { generation: hb.generation, nodeId: hb.nodeId, at: this.clock() });
  }

  /** When `stage` of the run last beat at `generation` (undefined: never, or another generation). */
  last(runId: string, stage: string, generation: number): number | undefined {
    const beat = this.beats.get(runId)?.get(stage);
    return beat && beat.generation === generation ? beat.at : undefined;
  }

  forget(runId: string): void {
    this.beats.delete(runId);
    this.voided.delete(runId);
  }

  /**
   * A generation that was started and given up (a failed move): its beats are dropped and
   * ignored from now on, so the generation still running is judged by its own beats again.
   */
  voidGeneration(runId: string, generation: number): void {
    let set = this.voided.get(runId);
    if (!set) this.voided.set(runId, (set = new Set()));
    set.add(generation);
    const stages = this.beats.get(runId);
    for (const [stage, beat] of stages ?? []) {
      if (beat.generation === generation) stages?.delete(stage);
    }
  }

  /** Drops runs whose every stage has been silent for `maxAgeMs`. */
  prune(maxAgeMs: number): void {
    const now = this.clock();
    for (const [runId, stages] of this.beats) {
      let fresh = false;
      for (const beat of stages.values()) if (now - beat.at <= maxAgeMs) fresh = true;
      if (!fresh) {
        this.beats.delete(runId);
        this.voided.delete(runId);
      }
    }
  }

  get size(): number {
    return this.beats.size;
  }
}

export interface LeaseInput {
  stages: readonly string[];
  generation: number;
  now: number;
  leaseMs: number;
  /** Last heartbeat of a stage at the generation (undefined: none). */
  last(stage: string): number | undefined;
}

export interface LeaseDecision {
  /** Stages that beat within the lease. */
  alive: string[];
  /** Stages with no heartbeat at this generation within the lease. */
  silent: string[];
  /**
   * Every stage is alive: extend the lease by this long from now, i.e. until the stalest stage
   * has been silent for a whole lease. Undefined: do not renew (let the lease run out).
   */
  renewForMs: number | undefined;
}

/** Whether a run's lease may be renewed: only while every required stage keeps beating. */
export function leaseDecision(input: LeaseInput): LeaseDecision {
  const alive: string[] = [];
  const silent: string[] = [];
  let oldest = 0;
  for (const stage of input.stages) {
    const at = input.last(stage);
    const age = at === undefined ? Number.POSITIVE_INFINITY : input.now - at;
    if (age < input.leaseMs) {
      alive.push(stage);
      oldest = Math.max(oldest, age);
    } else {
      silent.push(stage);
    }
  }
  const renewForMs =
    silent.length === 0 ? Math.max(1, Math.round(input.leaseMs - oldest)) : undefined;
  return { alive, silent, renewForMs };
}
