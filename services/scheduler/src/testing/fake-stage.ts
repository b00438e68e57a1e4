import {
  controlSubject,
  heartbeatSubject,
  nodeStatusSubject,
  stageReportSubject,
  type Bus,
  type StageName,
  type Subscription,
} from '@sie/bus';
import {
  Heartbeat,
  NodeStatus,
  Stage,
  StageEventKind,
  StageReport,
  StartRunRequest,
  StartRunResponse,
  StopRunRequest,
  StopRunResponse,
  type ErrorInfo,
  type RunSpec,
} from '@sie/contracts';

const STAGE_ENUM: Record<StageName, Stage> = {
  ingest: Stage.STAGE_INGEST,
  inference: Stage.STAGE_INFERENCE,
  rules: Stage.STAGE_RULES,
  render: Stage.STAGE_RENDER,
};

export interface FakeStageOptions {
  maxRuns?: number;
  heartbeatIntervalMs?: number;
  announceIntervalMs?: number;
  /** Announced capacity in frames per second (admission control); 0: not stated. */
  capacityFps?: number;
  /** A start waits this long before it answers. */
  startDelayMs?: number;
  /** Runs it holds from the start (generation 1). */
  initialRuns?: string[];
  /** Refuses a start with this error (or accepts when undefined). */
  refuse?: (run: RunSpec) => ErrorInfo | undefined;
}

/**
 * A stage service of a node as the scheduler sees it: answers start/stop with generation
 * fencing, announces its NodeStatus, heartbeats its runs and, as ingest, reports STARTED after
 * accepting. It can go mute (no heartbeats) or die (nothing at all), like a process under
 * SIGSTOP or SIGKILL.
 */
export class FakeStage {
  readonly runs = new Map<string, number>();
  /** Every command in arrival order: `start:<run>:<gen>` or `stop:<run>:<gen>`. */
  readonly commands: string[] = [];
  private readonly subs: Subscription[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private muted = false;

  constructor(
    private readonly bus: Bus,
    readonly nodeId: string,
    readonly stage: StageName,
    private readonly o: FakeStageOptions = {},
    /** Shared by the stages of a node: every command as `<stage> <command>`, in arrival order. */
    private readonly journal: string[] = [],
  ) {}

  private note(command: string): void {
    this.commands.push(command);
    this.journal.push(`${this.stage} ${command}`);
  }

  start(): this {
    const { bus, nodeId, stage } = this;
    for (const runId of this.o.initialRuns ?? []) this.runs.set(runId, 1);
    this.subs.push(
      bus.serve(
        controlSubject(nodeId, stage, 'start'),
        StartRunRequest,
        StartRunResponse,
        async (req) => {
          const run = req.run!;
          this.note(`start:${run.runId}:${run.generation}`);
          if (this.o.startDelayMs) await new Promise((r) => setTimeout(r, this.o.startDelayMs));
          const refusal = this.o.refuse?.(run);
          if (refusal) return { accepted: false, error: refusal };
          const held = this.runs.get(run.runId);
          if (held !== undefined && run.generation < held) {
            return {
              accepted: false,
              error: { code: 'stale_generation', message: 'stale', details: {} },
            };
          }
          if (held === undefined && this.runs.size >= (this.o.maxRuns ?? 10)) {
            return {
              accepted: false,
              error: { code: 'unavailable', message: 'full', details: {} },
            };
          }
          this.runs.set(run.runId, run.generation);
          if (stage === 'ingest') {
            setTimeout(
              () => this.report(run.runId, run.generation, StageEventKind.STAGE_EVENT_KIND_STARTED),
              20,
            );
          }
          return { accepted: true, error: undefined };
        },
        (err) => ({ accepted: false, error: err.toPayload() }),
      ),
      bus.serve(
        controlSubject(nodeId, stage, 'stop'),
        StopRunRequest,
        StopRunResponse,
        (req) => {
          this.note(`stop:${req.runId}:${req.generation}`);
          const held = this.runs.get(req.runId);
          if (held === undefined) return Promise.resolve({ stopped: false, error: undefined });
          if (req.generation < held) {
            return Promise.resolve({
              stopped: false,
              error: { code: 'stale_generation', message: 'stale', details: {} },
            });
          }
          this.runs.delete(req.runId);
          this.report(req.runId, held, StageEventKind.STAGE_EVENT_KIND_STOPPED);
          return Promise.resolve({ stopped: true, error: undefined });
        },
        (err) => ({ stopped: false, error: err.toPayload() }),
      ),
    );
    const announce = (): void => this.announce();
    announce();
    this.timers.push(setInterval(announce, this.o.announceIntervalMs ?? 200));
    this.timers.push(setInterval(() => this.heartbeat(), this.o.heartbeatIntervalMs ?? 200));
    return this;
  }

  /** Heartbeats stop; commands and announcements go on. */
  mute(): void {
    this.muted = true;
  }

  /** Nothing any more: no answers, announcements or heartbeats (SIGKILL). */
  kill(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    for (const s of this.subs.splice(0)) s.unsubscribe();
  }

  report(runId: string, generation: number, kind: StageEventKind, error?: ErrorInfo): void {
    this.bus.publish(stageReportSubject(runId, this.stage), StageReport, {
      runId,
      stage: STAGE_ENUM[this.stage],
      nodeId: this.nodeId,
      generation,
      kind,
      error,
      atMs: Date.now(),
      attempt: 1,
    });
  }

  private announce(): void {
    const max = this.o.maxRuns ?? 10;
    this.bus.publish(nodeStatusSubject(this.nodeId, this.stage), NodeStatus, {
      nodeId: this.nodeId,
      stage: this.stage,
      runIds: [...this.runs.keys()],
      capacity: Math.max(0, max - this.runs.size),
      maxRuns: max,
      atMs: Date.now(),
      announceIntervalMs: this.o.announceIntervalMs ?? 200,
      capacityFps: this.o.capacityFps ?? 0,
    });
  }

  private heartbeat(): void {
    if (this.muted) return;
    for (const [runId, generation] of this.runs) {
      this.bus.publish(heartbeatSubject(runId, this.stage), Heartbeat, {
        runId,
        stage: STAGE_ENUM[this.stage],
        nodeId: this.nodeId,
        generation,
        atMs: Date.now(),
        framesIn: 0,
        framesOut: 0,
        framesDropped: 0,
        fps: 0,
      });
    }
  }
}

/** The three stage services of one fake node. */
export class FakeNode {
  readonly stages: Record<'ingest' | 'rules' | 'render', FakeStage>;
  /** Every command of every stage, in arrival order. */
  readonly journal: string[] = [];

  constructor(
    bus: Bus,
    readonly nodeId: string,
    options: Partial<Record<'ingest' | 'rules' | 'render', FakeStageOptions>> = {},
  ) {
    this.stages = {
      ingest: new FakeStage(bus, nodeId, 'ingest', options.ingest, this.journal).start(),
      rules: new FakeStage(bus, nodeId, 'rules', options.rules, this.journal).start(),
      render: new FakeStage(bus, nodeId, 'render', options.render, this.journal).start(),
    };
  }

  get ingest(): FakeStage {
    return this.stages.ingest;
  }

  /** The commands about one run, in arrival order, as `<stage> <verb>:<generation>`. */
  commandsFor(runId: string): string[] {
    return this.journal
      .filter((c) => c.includes(`:${runId}:`))
      .map((c) => c.replace(`:${runId}:`, ':'));
  }

  kill(): void {
    for (const s of Object.values(this.stages)) s.kill();
  }
}
