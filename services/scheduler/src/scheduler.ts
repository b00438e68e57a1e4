import { performance } from 'node:perf_hooks';
import {
  allHeartbeatsSubject,
  allNodeStatusSubject,
  allStageReportsSubject,
  type Bus,
  type Subscription,
} from '@sie/bus';
import { Heartbeat, NodeStatus, StageEventKind, StageReport, type RunSpec } from '@sie/contracts';
import type { Db, Model, ReasonCode, Run, RunStatus } from '@sie/db';
import { StaleRunError } from '@sie/lifecycle';
import type { ModelLoader } from '@sie/models';
import {
  expectedRunFps,
  pipelineConfigSchema,
  runOutputSchema,
  runSourceSchema,
  toPipelineSpec,
  toSourceSpec,
} from '@sie/pipeline';
import type { Logger } from '@sie/telemetry';
import { NodeCommands, type StartOutcome } from './commands.js';
import type { SchedulerConfig } from './config.js';
import { waitFirstFrame } from './first-frame.js';
import { Fleet, admits, unschedulableNodes, usedFpsOf, type FleetSnapshot } from './fleet.js';
import { HeartbeatTable, leaseDecision, stageName } from './heartbeats.js';
import type { SchedulerMetrics } from './metrics.js';
import { ModelStep } from './model-step.js';
import { NodeDirectory, type Candidate } from './placement.js';
import {
  failureMessage,
  isModelFault,
  isRecoverableRefusal,
  isRetryableFailure,
  reasonForErrorCode,
} from './reasons.js';
import { Reservations } from './reservations.js';
import {
  RunStore,
  viewOf,
  type RenewEntry,
  type RunView,
  type TransitionOptions,
} from './run-store.js';

/** Message on runs no node has room for. */
export const WAITING_MESSAGE = 'waiting for a node with capacity';

/** Queue group of the stage-report subscription: one scheduler handles each report. */
export const REPORTS_QUEUE = 'sie-scheduler';

/** Pause before the drain tries again to move a run whose move failed. */
const MOVE_RETRY_MS = 10_000;

// Nodes announce themselves every ~2 s: until then an empty directory says nothing.
const DIRECTORY_WARMUP_MS = 2500;

/** What starting a run needs: the start command's run (generation set per placement), its model. */
interface StartInputs {
  spec: RunSpec;
  modelId: string;
  model: Model | undefined;
  /** Frames per second the run is expected to take of its node (admission control). */
  fps: number;
}

/** A start that did not happen: who refused and why; `fatal` when no retry can help. */
interface StartRefusal {
  stage: string;
  code: string;
  message: string;
  fatal?: ReasonCode;
}

/** A run whose lease this scheduler renews while its stages keep beating. */
interface Supervised {
  generation: number;
  nodeId: string;
  /** When supervision began (placement or adoption), monotonic ms. */
  since: number;
}

export type SchedulerOptions = Pick<
  SchedulerConfig,
  | 'schedulerId'
  | 'pollIntervalMs'
  | 'leaseMs'
  | 'commandTimeoutMs'
  | 'maxRestarts'
  | 'maxStartAttempts'
  | 'stages'
  | 'batchSize'
  | 'nodeSilenceMs'
  | 'moveStartTimeoutMs'
>;

export interface SchedulerDeps {
  options: SchedulerOptions;
  db: Db;
  bus: Bus;
  logger: Logger;
  metrics: SchedulerMetrics;
  /**
   * The node's inference service, to load a run's model before its stages start (the
   * ensure-model step). Absent: models are not loaded (the node's config may preload them).
   */
  models?: ModelLoader;
  /** Woken after every transition this scheduler commits (the outbox relay). */
  onTransition?: () => void;
  /** Monotonic milliseconds (tests may drive it). */
  clock?: () => number;
}

/**
 * The run state machine's driver. Each poll claims work from the runs table (`FOR UPDATE SKIP
 * LOCKED`, then a lease of this scheduler): runs to stop, runs whose lease ran out, runs to
 * place. Stage reports (one scheduler per report) move runs to active, failed or shutdown;
 * heartbeats (seen by every scheduler) keep leases alive. Every write is compare-and-set on the
 * run's status, generation and (for lease work) owner.
 */
export class Scheduler {
  readonly nodes: NodeDirectory;
  readonly heartbeats: HeartbeatTable;
  private readonly store: RunStore;
  private readonly commands: NodeCommands;
  private readonly modelStep: ModelStep;
  private readonly fleet: Fleet;
  private readonly reserved: Reservations;
  private readonly drainNotes = new Map<string, string>();
  /** Draining nodes with a move of this scheduler in progress. */
  private readonly moving = new Set<string>();
  /** Runs whose last move failed, and when the drain may try them again (monotonic ms). */
  private readonly moveBackoff = new Map<string, number>();
  private readonly clock: () => number;
  private readonly o: SchedulerOptions;
  private readonly log: Logger;
  private readonly metrics: SchedulerMetrics;
  private readonly busy = new Set<string>();
  private readonly supervised = new Map<string, Supervised>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly subs: Subscription[] = [];
  private startedAt = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private renewing = false;
  private stopping = false;
  private ticks = 0;
  private pollError = '';
  private renewError = '';

  constructor(private readonly deps: SchedulerDeps) {
    this.o = deps.options;
    this.log = deps.logger;
    this.metrics = deps.metrics;
    this.clock = deps.clock ?? (() => performance.now());
    this.nodes = new NodeDirectory(this.clock, this.o.nodeSilenceMs);
    this.heartbeats = new HeartbeatTable(this.clock);
    this.store = new RunStore(deps.db, this.o.schedulerId, this.o.leaseMs);
    this.commands = new NodeCommands(deps.bus, this.o.commandTimeoutMs, this.metrics, this.log);
    this.modelStep = new ModelStep(deps.models, this.log, this.metrics);
    this.fleet = new Fleet(deps.db);
    this.reserved = new Reservations(this.clock);
  }

  start(): void {
    const { bus } = this.deps;
    this.startedAt = this.clock();
    this.subs.push(
      bus.subscribe(allNodeStatusSubject(), NodeStatus, (s) => this.nodes.update(s)),
      bus.subscribe(allHeartbeatsSubject(), Heartbeat, (hb) => this.heartbeats.record(hb)),
      bus.subscribe(allStageReportsSubject(), StageReport, (r) => this.onReport(r), {
        queue: REPORTS_QUEUE,
      }),
    );
    this.pollTimer = setInterval(() => void this.poll(), this.o.pollIntervalMs);
    this.renewTimer = setInterval(() => void this.renewLeases(), this.o.pollIntervalMs);
    void this.poll();
  }

  /** Stops polling and waits (a while) for work in progress; leases are left to run out. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.pollTimer);
    clearInterval(this.renewTimer);
    for (const s of this.subs.splice(0)) s.unsubscribe();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([Promise.allSettled([...this.tasks]), grace]);
  }

  /** 'ok' while the runs table can be polled and leases renewed. */
  health(): string {
    if (this.pollError) return `polling failing: ${this.pollError}`;
    if (this.renewError) return `lease renewal failing: ${this.renewError}`;
    return 'ok';
  }

  private uptime(): number {
    return this.clock() - this.startedAt;
  }

  /** Only a scheduler that has watched heartbeats for a whole lease may judge an expired run. */
  private canJudgeLeases(): boolean {
    return this.uptime() >= this.o.leaseMs;
  }

  // ---------------------------------------------------------------- polling and claims

  async poll(): Promise<void> {
    if (this.polling || this.stopping) return;
    this.polling = true;
    try {
      const { batchSize, stages } = this.o;
      for (const run of await this.store.claim('shutdown', batchSize, [...this.busy])) {
        this.claimed('shutdown', run, () => this.shutdown(run));
      }
      if (this.canJudgeLeases()) {
        for (const run of await this.store.claim('expired', batchSize, [...this.busy])) {
          this.claimed('expired', run, () => this.expired(run));
        }
      }
      const room = this.nodes.rank(stages).reduce((n, c) => n + c.free, 0);
      if (room > 0) {
        const limit = Math.min(batchSize, room);
        for (const run of await this.store.claim('startup', limit, [...this.busy])) {
          this.claimed('startup', run, () => this.place(run));
        }
      } else if (this.uptime() >= DIRECTORY_WARMUP_MS) {
        await this.store.markWaiting(WAITING_MESSAGE, batchSize);
      }
      await this.drainStep();
      await this.refreshGauges();
      this.pollError = '';
    } catch (err) {
      this.metrics.dbErrors.inc({ op: 'poll' });
      if (!this.pollError) this.log.warn({ err }, 'polling the runs table failed');
      this.pollError = err instanceof Error ? err.message : String(err);
    } finally {
      this.polling = false;
    }
  }

  private claimed(kind: string, run: Run, work: () => Promise<void>): void {
    this.metrics.claims.inc({ kind });
    this.log.debug(
      { run: run.id, kind, status: run.status, generation: run.leaseGeneration },
      'run claimed',
    );
    this.spawn(run.id, work);
  }

  /** Runs `work` on a run in the background; the run is busy (never claimed again) meanwhile. */
  private spawn(runId: string, work: () => Promise<void>): void {
    this.busy.add(runId);
    const task = work()
      .catch((err: unknown) => this.workFailed(runId, err))
      .finally(() => {
        this.busy.delete(runId);
        this.tasks.delete(task);
      });
    this.tasks.add(task);
  }

  private background(what: string, work: () => Promise<unknown>): void {
    const task = work()
      .then(() => undefined)
      .catch((err: unknown) => this.log.warn({ err }, `${what} failed`))
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  private workFailed(runId: string, err: unknown): void {
    if (err instanceof StaleRunError) {
      this.metrics.staleWrites.inc();
      this.supervised.delete(runId);
      this.log.info(
        { run: runId, err: err.message },
        'run changed under this scheduler; left alone',
      );
      return;
    }
    this.metrics.dbErrors.inc({ op: 'run' });
    this.log.warn({ run: runId, err }, 'working on a run failed; its lease will run out');
  }

  private async refreshGauges(): Promise<void> {
    if (this.ticks++ % 10 === 0) this.heartbeats.prune(3 * this.o.leaseMs);
    const counts = await this.store.countByStatus();
    this.metrics.runs.reset();
    for (const { status, n } of counts) this.metrics.runs.set({ status }, n);
    this.metrics.outboxLag.set(await this.store.outboxLag());
    this.metrics.nodes.set(this.nodes.knownNodes());
    const fleet = await this.fleet.load();
    this.metrics.nodeCapacityFps.reset();
    this.metrics.nodeUsedFps.reset();
    for (const { nodeId } of this.nodes.views()) {
      if (!this.nodes.present(nodeId, 'ingest')) continue;
      this.metrics.nodeCapacityFps.set({ node_id: nodeId }, this.capacityOf(nodeId, fleet));
      this.metrics.nodeUsedFps.set({ node_id: nodeId }, this.usedOf(nodeId, fleet));
    }
  }

  // ---------------------------------------------------------------- admission control

  /** A node's capacity in fps: the operator's override, else what its ingest announces. */
  private capacityOf(nodeId: string, fleet: FleetSnapshot): number {
    return fleet.settings.get(nodeId)?.capacityFps ?? this.nodes.capacityFps(nodeId);
  }

  private usedOf(nodeId: string, fleet: FleetSnapshot): number {
    return usedFpsOf(fleet.runs.get(nodeId), this.reserved.inFlight(nodeId));
  }

  /**
   * The first ranked node that admits a run of `fps` (synchronous with the reservation that
   * follows, so concurrent placements see each other); `full` lists the nodes refused.
   */
  private pickAdmitted(
    ranked: readonly Candidate[],
    fleet: FleetSnapshot,
    runId: string,
    fps: number,
  ): { node?: Candidate; full: string[] } {
    const full: string[] = [];
    for (const c of ranked) {
      const capacityFps = this.capacityOf(c.nodeId, fleet);
      const usedFps = usedFpsOf(
        new Map([...(fleet.runs.get(c.nodeId) ?? [])].filter(([id]) => id !== runId)),
        new Map([...this.reserved.inFlight(c.nodeId)].filter(([id]) => id !== runId)),
      );
      if (admits({ capacityFps, usedFps, runFps: fps })) return { node: c, full };
      full.push(`${c.nodeId} ${round(usedFps)}/${round(capacityFps)} fps`);
    }
    return { full };
  }

  private async transition(
    view: RunView,
    to: RunStatus,
    options: TransitionOptions,
  ): Promise<void> {
    const { change } = await this.store.transition(view, to, options);
    this.metrics.transitions.inc({ to, reason: options.reason ?? '' });
    this.log.info(
      {
        run: view.id,
        from: view.status,
        to,
        reason: options.reason,
        message: options.message,
        generation: change.generation,
      },
      'run transition',
    );
    if (to === 'failed' || to === 'inactive' || to === 'init_startup')
      this.supervised.delete(view.id);
    this.deps.onTransition?.();
  }

  // ---------------------------------------------------------------- placement

  /**
   * Places a run waiting in `init_startup`: the best node gets the run at a new generation
   * (`in_startup_processing`), its model is loaded, then every stage is asked to start it. A
   * refusal or no answer tries the next node; an error no node can fix fails the run at once.
   */
  private async place(claimed: Run, avoid: ReadonlySet<string> = new Set()): Promise<void> {
    let view = viewOf(claimed);
    const inputs = await this.startInputs(claimed);
    if (typeof inputs === 'string') {
      await this.transition(view, 'failed', { reason: 'config_error', message: inputs });
      return;
    }
    const { stages } = this.o;
    const fleet = await this.fleet.load();
    const exclude = unschedulableNodes(fleet);
    let attempts = claimed.attempts;
    let lastFailure = '';
    for (;;) {
      const ranked = this.nodes.rank(stages, { exclude, avoid });
      const { node, full } = this.pickAdmitted(ranked, fleet, view.id, inputs.fps);
      if (!node) {
        if (full.length > 0) {
          this.metrics.queued.inc({ reason: 'no_capacity' });
          await this.store.release(
            view,
            `no node has capacity for ${round(inputs.fps)} fps more (${full.join(', ')})`,
            'no_capacity',
          );
          return;
        }
        this.metrics.queued.inc({ reason: 'no_node' });
        const why = lastFailure ? ` (last start failed: ${lastFailure})` : '';
        await this.store.release(view, `${WAITING_MESSAGE}${why}`);
        return;
      }
      const nodeId = node.nodeId;
      this.reserved.reserve(nodeId, view.id, inputs.fps);
      let placed;
      try {
        placed = await this.placeOn(nodeId, view, inputs, attempts + 1);
      } catch (err) {
        this.reserved.release(nodeId, view.id, false);
        throw err;
      }
      if (placed.kind === 'done') {
        this.reserved.release(nodeId, view.id, true);
        return;
      }
      this.reserved.release(nodeId, view.id, false);
      attempts = placed.attempts;
      view = placed.view;
      if (placed.kind === 'over') return;
      exclude.add(nodeId);
      lastFailure = placed.message;
    }
  }

  /**
   * One placement try on `nodeId`: the run at a new generation (`in_startup_processing`), then
   * its start. `done`: started; `over`: failed for good; `retry`: back in `init_startup`.
   */
  private async placeOn(
    nodeId: string,
    claimedView: RunView,
    inputs: StartInputs,
    attemptNo: number,
  ): Promise<
    | { kind: 'done' }
    | { kind: 'over'; attempts: number; view: RunView }
    | { kind: 'retry'; attempts: number; view: RunView; message: string }
  > {
    const { maxStartAttempts } = this.o;
    let view = claimedView;
    const attempts = attemptNo;
    {
      const generation = view.generation + 1;
      this.nodes.notePlaced(nodeId, view.id);
      try {
        await this.transition(view, 'in_startup_processing', {
          reason: 'placed',
          message: `placed on node ${nodeId}`,
          attempt: attempts,
          set: { leaseGeneration: generation, nodeId, attempts },
        });
      } catch (err) {
        this.nodes.forgetPlaced(nodeId, view.id);
        throw err;
      }
      view = { ...view, status: 'in_startup_processing', generation };
      this.supervised.set(view.id, { generation, nodeId, since: this.clock() });
      const refusal = await this.startOnNode(nodeId, view.id, inputs, generation);
      if (!refusal) return { kind: 'done' };

      this.nodes.forgetPlaced(nodeId, view.id);
      this.supervised.delete(view.id);
      if (refusal.code === 'unavailable' || refusal.code === 'timeout') {
        // The stage is gone or hung (a crashed process restarting): wait for it to announce
        // itself again rather than spend this run's start attempts on it meanwhile.
        this.nodes.forgetStage(nodeId, refusal.stage);
      }
      const message = `${refusal.stage} on node ${nodeId}: ${refusal.message} (${refusal.code})`;
      if (refusal.fatal) {
        await this.transition(view, 'failed', {
          reason: refusal.fatal,
          message: failureMessage(refusal.stage, refusal),
          attempt: attempts,
        });
        return { kind: 'over', attempts, view };
      }
      if (attempts >= maxStartAttempts) {
        await this.transition(view, 'failed', {
          reason: 'internal_error',
          message: `could not start the run in ${attempts} attempt(s); last: ${message}`,
          attempt: attempts,
        });
        return { kind: 'over', attempts, view };
      }
      await this.transition(view, 'init_startup', {
        reason: 'start_failed',
        message,
        attempt: attempts,
        set: { nodeId: null },
      });
      view = { ...view, status: 'init_startup' };
      return { kind: 'retry', attempts, view, message };
    }
  }

  /**
   * The ensure-model step, then the start of every stage. A model that cannot load (a bad file
   * or spec) fails the run with `model_error`; inference down or slow is a failed placement like
   * a node that does not answer, tried again later.
   */
  private async startOnNode(
    nodeId: string,
    runId: string,
    inputs: StartInputs,
    generation: number,
  ): Promise<StartRefusal | undefined> {
    const model = await this.modelStep.ensure(runId, inputs.modelId, inputs.model);
    if (!model.ok) {
      const fatal = isModelFault(model.code) ? 'model_error' : undefined;
      return { stage: 'inference', code: model.code, message: model.message, fatal };
    }
    const outcome = await this.commands.start(nodeId, this.o.stages, {
      ...inputs.spec,
      generation,
    });
    if (outcome.ok) return undefined;
    const fatal = isRecoverableRefusal(outcome.code) ? undefined : reasonForErrorCode(outcome.code);
    return { stage: outcome.stage, code: outcome.code, message: outcome.message, fatal };
  }

  /** What starting the run needs, or why the run cannot start. */
  private async startInputs(run: Run): Promise<StartInputs | string> {
    const { pipeline, model } = await this.store.startContext(run);
    const config = pipelineConfigSchema.safeParse(pipeline.config);
    if (!config.success)
      return `pipeline ${pipeline.id} config is invalid: ${issues(config.error)}`;
    const source = runSourceSchema.safeParse(run.source);
    if (!source.success) return `run source is invalid: ${issues(source.error)}`;
    const output = runOutputSchema.safeParse(run.output);
    if (!output.success) return `run output is invalid: ${issues(output.error)}`;
    const spec: RunSpec = {
      runId: run.id,
      tenantId: run.tenantId,
      generation: run.leaseGeneration,
      pipeline: toPipelineSpec(pipeline.modelId, config.data),
      source: toSourceSpec(source.data),
      outputPath: output.data.path ?? run.id,
    };
    return { spec, modelId: pipeline.modelId, model, fps: expectedRunFps(pipeline.config) };
  }

  // ---------------------------------------------------------------- drain

  /**
   * Works on draining nodes: claims their active runs to move them (make-before-break), and
   * marks a node `drained` once no run holds a place on it and its ingest holds none.
   */
  private async drainStep(): Promise<void> {
    const fleet = await this.fleet.load();
    const draining = [...fleet.settings]
      .filter(([, s]) => s.state === 'draining')
      .map(([nodeId]) => nodeId);
    if (draining.length === 0) return;
    const empty = draining.filter(
      (nodeId) =>
        (fleet.runs.get(nodeId)?.size ?? 0) === 0 &&
        (!this.nodes.present(nodeId, 'ingest') ||
          this.nodes.runIdsOf(nodeId, 'ingest').length === 0),
    );
    for (const nodeId of await this.fleet.markDrained(empty)) {
      this.drainNotes.delete(nodeId);
      this.log.info({ node: nodeId }, 'node drained: it holds no runs');
    }
    // One move at a time per node: each start costs the target a burst of CPU (a source to open,
    // an encoder to start), and the runs still on the node keep their output meanwhile.
    for (const nodeId of draining) {
      if (empty.includes(nodeId) || this.moving.has(nodeId)) continue;
      const now = this.clock();
      for (const [id, until] of this.moveBackoff) if (until <= now) this.moveBackoff.delete(id);
      const [run] = await this.store.claimMoves([nodeId], 1, [
        ...this.busy,
        ...this.moveBackoff.keys(),
      ]);
      if (!run) continue;
      this.moving.add(nodeId);
      this.claimed('move', run, () => this.move(run).finally(() => this.moving.delete(nodeId)));
    }
  }

  /** Records (once per change) why a drain waits, for GET /v1/nodes/{id}. */
  private async noteDrain(nodeId: string, message: string | null): Promise<void> {
    if ((this.drainNotes.get(nodeId) ?? null) === message) return;
    if (message === null) this.drainNotes.delete(nodeId);
    else this.drainNotes.set(nodeId, message);
    await this.fleet.setMessage(nodeId, message);
  }

  /**
   * Moves an active run off its draining node, make-before-break: the new node's ingest starts
   * at the next generation while the old placement keeps running, and only once it reports its
   * first frame is the move committed (the new generation fences the old one). Then the old
   * node's stages stop (rules last writes its state to KV) and the new node's rules (which
   * restores that state) and render (which takes the RTSP path over) start. No other node with
   * room: the run stays where it is and the drain waits.
   */
  private async move(run: Run): Promise<void> {
    const view = viewOf(run);
    const from = run.nodeId;
    if (!from) return;
    const inputs = await this.startInputs(run);
    if (typeof inputs === 'string') return;
    const fleet = await this.fleet.load();
    const exclude = new Set([...unschedulableNodes(fleet), from]);
    const ranked = this.nodes.rank(this.o.stages, { exclude });
    const { node, full } = this.pickAdmitted(ranked, fleet, view.id, inputs.fps);
    if (!node) {
      this.metrics.moves.inc({ outcome: 'no_capacity' });
      const why =
        full.length > 0
          ? `no other node has capacity for ${round(inputs.fps)} fps (${full.join(', ')})`
          : 'no other ready node';
      await this.noteDrain(from, `waiting: run ${run.id} cannot move yet: ${why}`);
      return;
    }
    const to = node.nodeId;
    const generation = view.generation + 1;
    this.reserved.reserve(to, view.id, inputs.fps);
    this.nodes.notePlaced(to, view.id);
    let committed = false;
    try {
      committed = await this.moveTo(view, from, to, generation, inputs);
    } finally {
      this.reserved.release(to, view.id, committed);
      if (!committed) this.nodes.forgetPlaced(to, view.id);
    }
  }

  private async moveTo(
    view: RunView,
    from: string,
    to: string,
    generation: number,
    inputs: StartInputs,
  ): Promise<boolean> {
    const { stages } = this.o;
    const started = Date.now();
    const model = await this.modelStep.ensure(view.id, inputs.modelId, inputs.model);
    if (!model.ok) {
      this.metrics.moves.inc({ outcome: 'failed' });
      await this.noteDrain(from, `waiting: run ${view.id}: ${model.message}`);
      return false;
    }
    const spec = { ...inputs.spec, generation };
    const firstFrame = waitFirstFrame(
      this.deps.bus,
      view.id,
      generation,
      this.o.moveStartTimeoutMs,
    );
    const outcome = await this.commands.start(to, ['ingest'], spec);
    const ok = outcome.ok ? await firstFrame.done : false;
    firstFrame.cancel();
    if (!ok) {
      const why = outcome.ok ? 'no first frame in time' : `${outcome.stage}: ${outcome.message}`;
      this.metrics.moves.inc({ outcome: 'failed' });
      this.log.warn({ run: view.id, from, to, generation, why }, 'move failed; the run stays');
      // Its beats would hide the old generation's, which keeps running: void it, and let the
      // run rest a while before the drain tries again.
      this.heartbeats.voidGeneration(view.id, generation);
      this.moveBackoff.set(view.id, this.clock() + MOVE_RETRY_MS);
      this.background('stopping a failed move', () =>
        this.commands.stop(to, ['ingest'], view.id, generation, 'move failed'),
      );
      await this.noteDrain(from, `waiting: run ${view.id} could not start on ${to}: ${why}`);
      return false;
    }
    const message = `moved from node ${from} to node ${to} (drain)`;
    try {
      await this.store.move(view, to, generation, message);
    } catch (err) {
      this.background('stopping a move that lost its run', () =>
        this.commands.stop(to, ['ingest'], view.id, generation, 'move lost the run'),
      );
      throw err;
    }
    this.supervised.set(view.id, { generation, nodeId: to, since: this.clock() });
    // The new render first: it takes the RTSP path over from the old one (a newer generation
    // may), so viewers wait for a reconnect only. Then the old source and rules stop (rules
    // writes its final state to KV) before the new rules start and restore it; the old render
    // goes last.
    const has = (stage: string): boolean => stages.includes(stage as (typeof stages)[number]);
    const skipped: StartOutcome = { ok: true };
    const render = has('render') ? await this.commands.start(to, ['render'], spec) : skipped;
    await Promise.all([
      this.commands.stop(from, ['ingest'], view.id, view.generation, 'moved'),
      has('rules')
        ? this.commands.stop(from, ['rules'], view.id, view.generation, 'moved')
        : Promise.resolve(),
    ]);
    const rules = has('rules') ? await this.commands.start(to, ['rules'], spec) : skipped;
    if (has('render')) {
      await this.commands.stop(from, ['render'], view.id, view.generation, 'moved');
    }
    const rest = render.ok ? rules : render;
    if (!rest.ok) {
      // Its heartbeats will be missing: the lease runs out and the run restarts the usual way.
      this.log.warn(
        { run: view.id, to, stage: rest.stage, err: rest.message },
        'moved run did not start fully',
      );
    }
    this.metrics.moves.inc({ outcome: rest.ok ? 'moved' : 'partial' });
    this.log.info(
      { run: view.id, from, to, generation, ms: Date.now() - started },
      'run moved off a draining node',
    );
    await this.noteDrain(from, null);
    this.deps.onTransition?.();
    return true;
  }

  // ---------------------------------------------------------------- shutdown

  /**
   * Stops a run: `→ init_shutdown` (when it was still starting or running), then, when it is on
   * a node, `in_shutdown_processing` and a stop to every stage; `inactive` once they answered or
   * the command deadline passed (a node that does not answer cannot run this generation on).
   */
  private async shutdown(run: Run): Promise<void> {
    let view = viewOf(run);
    this.supervised.delete(run.id);
    const why = run.reasonCode === 'source_ended' ? 'source_ended' : 'stop_requested';
    if (
      view.status === 'init_startup' ||
      view.status === 'in_startup_processing' ||
      view.status === 'active'
    ) {
      await this.transition(view, 'init_shutdown', { reason: why, message: 'stop requested' });
      view = { ...view, status: 'init_shutdown' };
    }
    const nodeId = run.nodeId;
    if (!nodeId) {
      await this.transition(view, 'inactive', { reason: why, message: 'was not placed on a node' });
      return;
    }
    if (view.status === 'init_shutdown') {
      await this.transition(view, 'in_shutdown_processing', {
        reason: why,
        message: `stopping on node ${nodeId}`,
      });
      view = { ...view, status: 'in_shutdown_processing' };
    }
    const result = await this.commands.stop(
      nodeId,
      this.o.stages,
      run.id,
      view.generation,
      why === 'source_ended' ? 'source ended' : 'stop requested',
    );
    const message =
      result.unanswered.length === 0
        ? `stopped on node ${nodeId}`
        : `stopped on node ${nodeId}; no answer from ${result.unanswered.join(', ')} within ${this.o.commandTimeoutMs} ms`;
    await this.transition(view, 'inactive', { reason: why, message });
  }

  // ---------------------------------------------------------------- leases

  /**
   * A run whose lease ran out. Its stages all beating at its generation: its scheduler died, so
   * this one adopts it as it is. Otherwise a stage went silent: the old generation is stopped
   * (best effort) and the run restarts, or fails once it used up its restarts.
   */
  private async expired(run: Run): Promise<void> {
    const view = viewOf(run);
    const { leaseMs, stages, maxRestarts } = this.o;
    const decision = leaseDecision({
      stages,
      generation: view.generation,
      now: this.clock(),
      leaseMs,
      last: (stage) => this.heartbeats.last(run.id, stage, view.generation),
    });
    if (decision.silent.length === 0) {
      this.supervised.set(run.id, {
        generation: view.generation,
        nodeId: run.nodeId ?? '',
        since: this.clock(),
      });
      this.metrics.adoptions.inc();
      this.log.info(
        { run: run.id, previousOwner: run.leaseOwner, generation: view.generation },
        'adopted a run whose scheduler stopped renewing its lease',
      );
      return;
    }
    const oldNode = run.nodeId;
    const silent = `${decision.silent.join(', ')} silent for more than ${leaseMs} ms${oldNode ? ` on node ${oldNode}` : ''}`;
    if (oldNode) {
      // Not awaited: a dead node would hold the restart for the whole command deadline, and a
      // stop of the old generation cannot touch the new one (the stages fence by generation).
      this.background('stopping the old generation', () =>
        this.commands.stop(oldNode, stages, run.id, view.generation, `restart: ${silent}`),
      );
    }
    if (run.restarts >= maxRestarts) {
      await this.transition(view, 'failed', {
        reason: 'restart_limit',
        message: `${silent}; restarted ${run.restarts} time(s) already (limit ${maxRestarts})`,
      });
      return;
    }
    const restarts = run.restarts + 1;
    await this.transition(view, 'init_startup', {
      reason: 'restart',
      message: `restart ${restarts} of ${maxRestarts}: ${silent}`,
      attempt: restarts,
      set: { restarts, attempts: 0, nodeId: null },
    });
    this.metrics.restarts.inc();
    await this.place(
      { ...run, status: 'init_startup', restarts, attempts: 0, nodeId: null },
      new Set(oldNode ? [oldNode] : []),
    );
  }

  /**
   * Renews the leases this scheduler holds: runs it is working on unconditionally, supervised
   * runs only while every stage beats at the run's generation. A run whose stages fell silent
   * is not renewed: its lease runs out and the claim that follows restarts it.
   */
  async renewLeases(): Promise<void> {
    if (this.renewing || this.stopping) return;
    this.renewing = true;
    try {
      const now = this.clock();
      const { stages, leaseMs } = this.o;
      const entries: RenewEntry[] = [];
      for (const [id, s] of this.supervised) {
        if (this.busy.has(id)) continue;
        const d = leaseDecision({
          stages,
          generation: s.generation,
          now,
          leaseMs,
          last: (stage) => this.heartbeats.last(id, stage, s.generation),
        });
        if (d.renewForMs !== undefined) {
          entries.push({ id, generation: s.generation, forMs: d.renewForMs });
        } else if (now - s.since > leaseMs) {
          this.supervised.delete(id);
          this.log.info(
            { run: id, node: s.nodeId, silent: d.silent, generation: s.generation },
            'stages silent: letting the lease run out',
          );
        }
      }
      const renewed = await this.store.renew(entries);
      for (const e of entries) if (!renewed.has(e.id)) this.supervised.delete(e.id);
      await this.store.holdBusy([...this.busy]);
      this.renewError = '';
    } catch (err) {
      this.metrics.dbErrors.inc({ op: 'renew' });
      if (!this.renewError) this.log.warn({ err }, 'renewing leases failed');
      this.renewError = err instanceof Error ? err.message : String(err);
    } finally {
      this.renewing = false;
    }
  }

  // ---------------------------------------------------------------- stage reports

  /** A stage's report moves its run (ignored unless it is about the run's current generation). */
  private async onReport(report: StageReport): Promise<void> {
    const stage = stageName(report.stage);
    const kind = report.kind;
    if (kind === StageEventKind.STAGE_EVENT_KIND_RECONNECTING) {
      this.log.info(
        { run: report.runId, stage, attempt: report.attempt, err: report.error },
        'stage reconnecting',
      );
      return;
    }
    const relevant =
      kind === StageEventKind.STAGE_EVENT_KIND_FAILED ||
      (stage === 'ingest' &&
        (kind === StageEventKind.STAGE_EVENT_KIND_STARTED ||
          kind === StageEventKind.STAGE_EVENT_KIND_ENDED));
    if (!relevant) return;
    const run = await this.store.get(report.runId);
    if (!run || run.leaseGeneration !== report.generation) return;
    if (run.status !== 'in_startup_processing' && run.status !== 'active') return;
    const view = viewOf(run);
    try {
      if (kind === StageEventKind.STAGE_EVENT_KIND_STARTED) {
        if (run.status !== 'in_startup_processing') return;
        await this.transition(view, 'active', {
          lease: 'any',
          reason: 'source_connected',
          message: `source connected on node ${report.nodeId}`,
          attempt: report.attempt,
        });
      } else if (kind === StageEventKind.STAGE_EVENT_KIND_FAILED) {
        if (
          isRetryableFailure(report.error?.code) &&
          run.restarts < this.o.maxRestarts &&
          !this.busy.has(run.id)
        ) {
          await this.restartFailed(run, stage, report);
          return;
        }
        await this.transition(view, 'failed', {
          lease: 'any',
          reason: reasonForErrorCode(report.error?.code),
          message: failureMessage(stage, report.error),
          attempt: report.attempt,
        });
        const nodeId = run.nodeId;
        const others = this.o.stages.filter((s) => s !== stage);
        if (nodeId && others.length > 0) {
          this.background('stopping the other stages of a failed run', () =>
            this.commands.stop(nodeId, others, run.id, view.generation, `${stage} failed`),
          );
        }
      } else {
        // ENDED: this scheduler takes the run and shuts it down now.
        await this.transition(view, 'init_shutdown', {
          lease: 'take',
          reason: 'source_ended',
          message: 'the source ended',
        });
        if (!this.busy.has(run.id)) {
          const ended: Run = { ...run, status: 'init_shutdown', reasonCode: 'source_ended' };
          this.spawn(run.id, () => this.shutdown(ended));
        }
      }
    } catch (err) {
      if (!(err instanceof StaleRunError)) throw err;
      this.metrics.staleWrites.inc();
      this.log.debug({ run: run.id, err: err.message }, 'report about a run that moved on');
    }
  }

  /**
   * A stage failed for a reason a new start can fix (inference lost the run's model when it
   * restarted): the run restarts like one whose stage went silent, counted against
   * `maxRestarts`, and its placement loads the model again.
   */
  private async restartFailed(run: Run, stage: string, report: StageReport): Promise<void> {
    const view = viewOf(run);
    const restarts = run.restarts + 1;
    await this.transition(view, 'init_startup', {
      lease: 'take',
      reason: 'restart',
      message: `restart ${restarts} of ${this.o.maxRestarts}: ${failureMessage(stage, report.error)}`,
      attempt: restarts,
      set: { restarts, attempts: 0, nodeId: null },
    });
    this.metrics.restarts.inc();
    const nodeId = run.nodeId;
    if (nodeId) {
      this.background('stopping the failed generation', () =>
        this.commands.stop(nodeId, this.o.stages, run.id, view.generation, `${stage} failed`),
      );
    }
    const waiting: Run = { ...run, status: 'init_startup', restarts, attempts: 0, nodeId: null };
    this.spawn(run.id, () => this.place(waiting));
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function issues(error: {
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>;
}): string {
  return error.issues
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
