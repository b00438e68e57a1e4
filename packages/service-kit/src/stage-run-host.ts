import {
  controlSubject,
  heartbeatSubject,
  stageReportSubject,
  type Bus,
  type StageName,
} from '@sie/bus';
import {
  Heartbeat,
  Stage,
  StageEventKind,
  StageReport,
  StartRunRequest,
  StartRunResponse,
  StopRunRequest,
  StopRunResponse,
  type RunSpec,
} from '@sie/contracts';
import type { SieError } from '@sie/errors';
import { InvalidArgumentError, UnavailableError, toErrorPayload } from '@sie/errors';
import type { Logger } from '@sie/telemetry';
import { serveStagePing } from './stage-ping.js';

export interface StageRunHooks {
  /** Prepares the stage's work for a run; a thrown SieError refuses the start with its code. */
  start(run: RunSpec): Promise<void>;
  stop(runId: string): Promise<void>;
  /** Frames in/out of a run so far, for heartbeats. */
  counters?(runId: string): { framesIn: number; framesOut: number; framesDropped: number };
}

export interface StageRunHostOptions {
  bus: Bus;
  nodeId: string;
  stage: StageName;
  maxRuns: number;
  heartbeatIntervalMs: number;
  logger: Logger;
}

const STAGE_ENUM: Record<StageName, Stage> = {
  ingest: Stage.STAGE_INGEST,
  inference: Stage.STAGE_INFERENCE,
  rules: Stage.STAGE_RULES,
  render: Stage.STAGE_RENDER,
};

/**
 * Holds the runs a stage service of a node executes, the way the scheduler expects every stage
 * to: `start`/`stop`/`ping` on `sie.ctl.<node>.<stage>.*` with generation fencing (a command
 * older than the run's generation is refused; a newer start replaces the run), heartbeats on
 * `sie.hb.<run>.<stage>` and reports on `sie.rpt.<run>.<stage>`.
 */
export class StageRunHost {
  private readonly runs = new Map<string, { generation: number; tenantId: string }>();
  private readonly subs: Array<{ unsubscribe(): void }> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: StageRunHostOptions,
    private readonly hooks: StageRunHooks,
  ) {}

  start(): void {
    const { bus, nodeId, stage } = this.options;
    this.subs.push(
      bus.serve(
        controlSubject(nodeId, stage, 'start'),
        StartRunRequest,
        StartRunResponse,
        async (req) => {
          if (!req.run) throw new InvalidArgumentError('start without a run', 'run');
          await this.startRun(req.run);
          return { accepted: true, error: undefined };
        },
        (err) => ({ accepted: false, error: err.toPayload() }),
      ),
      bus.serve(
        controlSubject(nodeId, stage, 'stop'),
        StopRunRequest,
        StopRunResponse,
        async (req) => ({
          stopped: await this.stopRun(req.runId, req.generation),
          error: undefined,
        }),
        (err) => ({ stopped: false, error: err.toPayload() }),
      ),
      serveStagePing(bus, nodeId, stage, () => ({
        runIds: [...this.runs.keys()],
        capacity: Math.max(0, this.options.maxRuns - this.runs.size),
        maxRuns: this.options.maxRuns,
      })),
    );
    this.timer = setInterval(() => this.heartbeat(), this.options.heartbeatIntervalMs);
    this.timer.unref();
  }

  runIds(): string[] {
    return [...this.runs.keys()];
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.subs.splice(0)) s.unsubscribe();
    for (const runId of [...this.runs.keys()]) await this.stopRun(runId, Number.MAX_SAFE_INTEGER);
  }

  private async startRun(run: RunSpec): Promise<void> {
    const held = this.runs.get(run.runId);
    if (held) {
      if (run.generation < held.generation) {
        throw new InvalidArgumentError(
          `run ${run.runId} is held at generation ${held.generation}; start for ${run.generation} is stale`,
          'generation',
        );
      }
      if (run.generation === held.generation) return;
      await this.stopRun(run.runId, run.generation);
    }
    if (this.runs.size >= this.options.maxRuns) {
      throw new UnavailableError(
        `${this.options.stage} on ${this.options.nodeId} is full (${this.options.maxRuns} runs)`,
      );
    }
    await this.hooks.start(run);
    this.runs.set(run.runId, { generation: run.generation, tenantId: run.tenantId });
    this.options.logger.info({ run: run.runId, generation: run.generation }, 'run started');
    this.report(run.runId, run.generation, StageEventKind.STAGE_EVENT_KIND_STARTED);
  }

  private async stopRun(runId: string, generation: number): Promise<boolean> {
    const held = this.runs.get(runId);
    if (!held) return false;
    if (generation < held.generation) {
      throw new InvalidArgumentError(
        `stop for generation ${generation} of run ${runId} is stale`,
        'generation',
      );
    }
    this.runs.delete(runId);
    try {
      await this.hooks.stop(runId);
    } catch (err) {
      this.options.logger.warn({ run: runId, err: toErrorPayload(err) }, 'stopping the run failed');
    }
    this.report(runId, held.generation, StageEventKind.STAGE_EVENT_KIND_STOPPED);
    return true;
  }

  private report(runId: string, generation: number, kind: StageEventKind, error?: SieError): void {
    const { bus, nodeId, stage } = this.options;
    bus.publish(stageReportSubject(runId, stage), StageReport, {
      runId,
      stage: STAGE_ENUM[stage],
      nodeId,
      generation,
      kind,
      error: error?.toPayload(),
      atMs: Date.now(),
      attempt: 0,
    });
  }

  private heartbeat(): void {
    const { bus, nodeId, stage } = this.options;
    for (const [runId, held] of this.runs) {
      const c = this.hooks.counters?.(runId) ?? { framesIn: 0, framesOut: 0, framesDropped: 0 };
      bus.publish(heartbeatSubject(runId, stage), Heartbeat, {
        runId,
        stage: STAGE_ENUM[stage],
        nodeId,
        generation: held.generation,
        atMs: Date.now(),
        framesIn: c.framesIn,
        framesOut: c.framesOut,
        framesDropped: c.framesDropped,
        fps: 0,
      });
    }
  }
}
