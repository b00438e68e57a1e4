import { controlSubject, type Bus, type StageName } from '@sie/bus';
import {
  StartRunRequest,
  StartRunResponse,
  StopRunRequest,
  StopRunResponse,
  type RunSpec,
} from '@sie/contracts';
import { asSieError } from '@sie/errors';
import type { Logger } from '@sie/telemetry';
import type { SchedulerMetrics } from './metrics.js';

/** Consumers first, so nothing is published before someone listens; the source last. */
export const START_ORDER: readonly StageName[] = ['render', 'rules', 'ingest', 'inference'];
/** The source first, so frames stop before their consumers go. */
export const STOP_ORDER: readonly StageName[] = ['ingest', 'inference', 'rules', 'render'];

/** `stages` in the given order (stages the order does not name keep their place at the end). */
export function orderStages(stages: readonly string[], order: readonly string[]): StageName[] {
  const rank = (s: string): number => {
    const i = order.indexOf(s);
    return i < 0 ? order.length : i;
  };
  return [...stages].sort((a, b) => rank(a) - rank(b)) as StageName[];
}

export type StartOutcome =
  | { ok: true }
  | {
      ok: false;
      /** The stage that refused or did not answer. */
      stage: StageName;
      code: string;
      message: string;
      /** Stages that accepted before it (they were asked to stop again). */
      accepted: StageName[];
    };

export interface StopOutcome {
  /** Stages that answered (stopped, not holding the run, or holding a newer generation). */
  answered: StageName[];
  /** Stages that did not answer in time. */
  unanswered: StageName[];
}

/**
 * Request/reply commands to the stage services of a node (`sie.ctl.<node>.<stage>.<verb>`), each
 * with a deadline; no answer is a failure, never a hang.
 */
export class NodeCommands {
  constructor(
    private readonly bus: Bus,
    private readonly timeoutMs: number,
    private readonly metrics: SchedulerMetrics,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts a run on every stage of a node, one at a time in START_ORDER. The first refusal or
   * missing answer stops the stages that accepted and is returned.
   */
  async start(nodeId: string, stages: readonly string[], run: RunSpec): Promise<StartOutcome> {
    const accepted: StageName[] = [];
    for (const stage of orderStages(stages, START_ORDER)) {
      let code = '';
      let message = '';
      try {
        const res = await this.bus.request(
          controlSubject(nodeId, stage, 'start'),
          StartRunRequest,
          { run },
          StartRunResponse,
          this.timeoutMs,
        );
        if (res.accepted) {
          accepted.push(stage);
          continue;
        }
        code = res.error?.code || 'unknown';
        message = res.error?.message || `${stage} refused the run`;
      } catch (err) {
        const e = asSieError(err);
        code = e.code;
        message = e.message;
      }
      this.metrics.commandFailures.inc({ stage, verb: 'start' });
      this.logger.warn(
        { run: run.runId, node: nodeId, stage, generation: run.generation, code, message },
        'start refused or not answered',
      );
      // A stage that did not answer in time may still accept late: it is stopped too.
      const started = code === 'timeout' ? [...accepted, stage] : accepted;
      if (started.length > 0) {
        await this.stop(nodeId, started, run.runId, run.generation, 'start failed');
      }
      return { ok: false, stage, code, message, accepted };
    }
    return { ok: true };
  }

  /**
   * Stops a run's generation on every stage of a node in STOP_ORDER, within one deadline of
   * `timeoutMs` for all of them (a stage left with no time still gets a short try).
   */
  async stop(
    nodeId: string,
    stages: readonly string[],
    runId: string,
    generation: number,
    reason: string,
  ): Promise<StopOutcome> {
    const deadline = Date.now() + this.timeoutMs;
    const out: StopOutcome = { answered: [], unanswered: [] };
    for (const stage of orderStages(stages, STOP_ORDER)) {
      const timeout = Math.max(250, deadline - Date.now());
      try {
        const res = await this.bus.request(
          controlSubject(nodeId, stage, 'stop'),
          StopRunRequest,
          { runId, generation, reason },
          StopRunResponse,
          timeout,
        );
        // A refusal is an answer: the stage holds a newer generation, or the id was malformed.
        if (res.error) {
          this.logger.info({ run: runId, node: nodeId, stage, err: res.error }, 'stop refused');
        }
        out.answered.push(stage);
      } catch (err) {
        const e = asSieError(err);
        this.metrics.commandFailures.inc({ stage, verb: 'stop' });
        this.logger.warn(
          { run: runId, node: nodeId, stage, generation, code: e.code },
          'stop not answered',
        );
        out.unanswered.push(stage);
      }
    }
    return out;
  }
}
