import {
  detectionsSubject,
  eventSubject,
  overlaysSubject,
  traceHeaders,
  type Bus,
  type Subscription,
} from '@sie/bus';
import { Event, FrameDetections, Overlay, type FrameRef, type RunSpec } from '@sie/contracts';
import { ConfigError, SieError, UnavailableError, toErrorPayload } from '@sie/errors';
import {
  SpanStatusCode,
  extractTraceContext,
  keepSpanTrace,
  trace,
  type Context,
  type Logger,
  type Tracer,
} from '@sie/telemetry';
import {
  RunEngine,
  parseRulesJson,
  type EngineEvent,
  type EngineSnapshot,
} from './engine/index.js';
import type { RulesMetrics } from './metrics.js';
import { buildOverlay, overlayStyleOf, type OverlayStyle } from './overlay.js';
import type { StateKv } from './streams.js';

/** What a run's KV entry holds: the engine's own snapshot plus where the run's clock stood. */
export interface RunSnapshot {
  version: 1;
  runId: string;
  /** Last frame processed: engine sequence and time (after offsets). */
  lastSeq: number;
  lastTimeMs: number;
  /** Added to a frame's seq/time so both stay monotonic when a restarted source starts over. */
  seqOffset: number;
  timeOffsetMs: number;
  /** Generation of the run that wrote it (absent in older snapshots). */
  generation?: number;
  engine: EngineSnapshot;
}

export interface RuleRunOptions {
  bus: Bus;
  kv: StateKv;
  metrics: RulesMetrics;
  logger: Logger;
  /** Snapshot at least this often in frame time (ms). */
  snapshotEveryMs: number;
  /** Snapshot this long (wall clock) after the last frame when the run goes quiet. */
  idleSnapshotMs: number;
  publishTimeoutMs: number;
  /** Spans `rules.frame` (children of the detections' trace context); the global one by default. */
  tracer?: Tracer;
}

/** A frame numbered at most this, older than the last one, means the source started over. */
const SOURCE_RESTART_MAX_SEQ = 10;

const EMPTY_RULES = '{"zones":[],"lines":[],"rules":[]}';

/** The rules JSON of a run, parsed; a bad document refuses the start with a ConfigError. */
export function parseRunRules(run: RunSpec): ReturnType<typeof parseRulesJson> {
  const json = run.pipeline?.rulesJson || EMPTY_RULES;
  try {
    return parseRulesJson(json);
  } catch (err) {
    if (err instanceof SieError) throw err;
    throw new ConfigError(
      [{ path: 'rules', message: err instanceof Error ? err.message : String(err) }],
      `rules of run ${run.runId}`,
      { cause: err },
    );
  }
}

/**
 * One run held by the rules service: detections in (`sie.det.<run>`), tracking and rules
 * (`RunEngine`), events out on JetStream (`sie.evt.<tenant>.<run>.<rule>`, `Nats-Msg-Id` = the
 * event's deterministic id) and an overlay per frame (`sie.ovl.<run>`). Frames are processed one
 * at a time in arrival order; per frame the order is: publish events and wait for their acks,
 * publish the overlay, then snapshot when due. An event published before the snapshot that
 * includes it is re-emitted with the same id after a crash and dropped by JetStream's dedup.
 */
export class RuleRun {
  framesIn = 0;
  eventsOut = 0;
  private readonly sub: Subscription;
  private readonly loop: Promise<void>;
  private lastSnapshotTimeMs = Number.NEGATIVE_INFINITY;
  private dirty = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private snapshotting: Promise<void> = Promise.resolve();
  private closed = false;
  /**
   * The state came from another generation (a restart, or a move to another node): that ingest
   * numbers its frames from its own start, so the first frame continues the restored timeline.
   */
  private rebase = false;
  private readonly tracer: Tracer;

  private constructor(
    private readonly run: RunSpec,
    private readonly engine: RunEngine,
    private readonly style: OverlayStyle,
    private state: Omit<RunSnapshot, 'engine' | 'version' | 'runId'>,
    private readonly o: RuleRunOptions,
  ) {
    this.tracer = o.tracer ?? trace.getTracer('sie-rules');
    this.sub = o.bus.nc.subscribe(detectionsSubject(run.runId));
    this.loop = this.consume();
  }

  /** Parses the run's rules, restores its state from KV when there is some, and subscribes. */
  static async open(run: RunSpec, o: RuleRunOptions): Promise<RuleRun> {
    const config = parseRunRules(run);
    const snap = await readSnapshot(o, run.runId);
    const engine = new RunEngine(run.runId, config, snap?.engine);
    if (snap) {
      o.logger.info(
        { run: run.runId, lastSeq: snap.lastSeq, lastTimeMs: snap.lastTimeMs },
        'rules state restored',
      );
    }
    const state = snap
      ? {
          lastSeq: snap.lastSeq,
          lastTimeMs: snap.lastTimeMs,
          seqOffset: snap.seqOffset,
          timeOffsetMs: snap.timeOffsetMs,
        }
      : { lastSeq: 0, lastTimeMs: Number.NEGATIVE_INFINITY, seqOffset: 0, timeOffsetMs: 0 };
    const r = new RuleRun(run, engine, overlayStyleOf(run.pipeline?.rulesJson ?? ''), state, o);
    if (snap) {
      r.lastSnapshotTimeMs = snap.lastTimeMs;
      r.rebase = (snap.generation ?? 0) !== run.generation;
    }
    return r;
  }

  /** Stops consuming, lets the frame in hand finish, and writes a final snapshot (kept in KV). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.sub.unsubscribe();
    await this.loop;
    await this.snapshotting;
    if (this.dirty) await this.snapshot();
    this.o.metrics.forget(this.run.runId);
  }

  private async consume(): Promise<void> {
    for await (const msg of this.sub) {
      if (this.closed) break;
      let d: FrameDetections;
      try {
        d = FrameDetections.decode(msg.data);
      } catch (err) {
        this.o.logger.warn({ run: this.run.runId, err: toErrorPayload(err) }, 'bad detections');
        continue;
      }
      // While a run moves between nodes, the other generation's ingest publishes too: its
      // frames belong to the other rules instance (0: a publisher that does not say).
      const gen = d.frame?.generation ?? 0;
      if (gen !== 0 && gen !== this.run.generation) continue;
      // The publisher's W3C trace context (NATS headers): this frame's span is its child.
      const carrier: Record<string, string> = {};
      if (msg.headers) for (const [k, v] of msg.headers) carrier[k.toLowerCase()] = v[0] ?? '';
      const parent = extractTraceContext(carrier);
      const span = this.tracer.startSpan(
        'rules.frame',
        { attributes: { 'sie.run': this.run.runId, 'sie.frame.seq': d.frame?.seq ?? 0 } },
        parent,
      );
      try {
        const events = await this.processFrame(d, trace.setSpan(parent, span));
        span.setAttribute('sie.events', events);
        // A frame that raised an event is traced whole, whatever the sampling ratio.
        if (events > 0) keepSpanTrace(span);
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
        this.o.logger.error(
          { run: this.run.runId, err: toErrorPayload(err) },
          'processing a frame failed',
        );
      } finally {
        span.end();
      }
    }
  }

  /** Processes one frame; returns how many events it raised. */
  private async processFrame(d: FrameDetections, ctx: Context): Promise<number> {
    const started = performance.now();
    // A snapshot taken while this frame's events await their acks could cover unpublished events.
    clearTimeout(this.idleTimer);
    const ref = d.frame;
    const clock = this.clock(ref);
    if (!clock) return 0;
    const { seq, timeMs } = clock;
    const out = this.engine.process({
      seq,
      captureTimeMs: timeMs,
      width: ref?.width ?? 0,
      height: ref?.height ?? 0,
      detections: d.detections,
    });
    if (out.stale) return 0;
    this.framesIn++;
    this.dirty = true;
    const runId = this.run.runId;
    this.o.metrics.frames.inc({ run: runId });
    await Promise.all(out.events.map((e) => this.publishEvent(e, ref, ctx)));
    this.o.bus.publish(overlaysSubject(runId), Overlay, buildOverlay(ref, out, this.style), ctx);
    if (out.events.length > 0 || timeMs - this.lastSnapshotTimeMs >= this.o.snapshotEveryMs) {
      await this.snapshot();
    } else {
      this.armIdleSnapshot();
    }
    this.o.metrics.processingMs.observe(performance.now() - started);
    return out.events.length;
  }

  /**
   * The engine's clock: the frame's position in the run's timeline (`pts_ms`: the source's own
   * time for files, the capture clock for cameras), so a slow or replayed stream gives the same
   * events. Sequence and time are kept monotonic across a source that starts over (a restarted
   * ingest begins again at frame 1, time 0) by offsets stored with the snapshot.
   */
  private clock(ref: FrameRef | undefined): { seq: number; timeMs: number } | undefined {
    const rawSeq = ref?.seq ?? this.state.lastSeq - this.state.seqOffset + 1;
    const rawTime = ref ? ref.ptsMs : this.state.lastTimeMs - this.state.timeOffsetMs;
    let seq = rawSeq + this.state.seqOffset;
    if (this.rebase && ref) {
      this.rebase = false;
      this.state.seqOffset = this.state.lastSeq - rawSeq + 1;
      seq = this.state.lastSeq + 1;
    } else if (seq <= this.state.lastSeq) {
      // An older frame of the same source (or the last one again) is stale: nothing to do. A
      // source that started over numbers its frames from 1 (a few may have been dropped).
      if (rawSeq > SOURCE_RESTART_MAX_SEQ) return undefined;
      this.state.seqOffset = this.state.lastSeq - rawSeq + 1;
      seq = this.state.lastSeq + 1;
    }
    let timeMs = rawTime + this.state.timeOffsetMs;
    if (timeMs < this.state.lastTimeMs) {
      this.state.timeOffsetMs = this.state.lastTimeMs - rawTime;
      timeMs = this.state.lastTimeMs;
    }
    this.state.lastSeq = seq;
    this.state.lastTimeMs = timeMs;
    return { seq, timeMs };
  }

  private async publishEvent(
    e: EngineEvent,
    ref: FrameRef | undefined,
    ctx: Context,
  ): Promise<void> {
    const { runId, tenantId } = this.run;
    const message: Event = {
      id: e.id,
      tenantId,
      runId,
      ruleId: e.ruleId,
      kind: e.kind,
      // The wall-clock capture time of the frame (the engine ran on the stream's own time).
      captureTimeMs: ref?.captureTimeMs ?? e.captureTimeMs,
      frame: ref,
      trackIds: e.trackIds,
      objects: e.objects,
      counts: e.counts,
      message: e.message,
    };
    const data = Event.encode(message).finish();
    const subject = eventSubject(tenantId, runId, e.ruleId);
    const js = this.o.bus.nc.jetstream();
    const headers = traceHeaders(ctx);
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await js.publish(subject, data, {
          msgID: e.id,
          timeout: this.o.publishTimeoutMs,
          ...(headers ? { headers } : {}),
        });
        if (ack.duplicate) {
          // Re-emitted after a restore from an older snapshot; the stream already holds it.
          this.o.metrics.duplicates.inc();
          return;
        }
        this.eventsOut++;
        this.o.metrics.events.inc({ run: runId, kind: e.kind });
        return;
      } catch (err) {
        if (attempt >= 5 || this.closedHard()) {
          this.o.metrics.publishErrors.inc();
          this.o.logger.error(
            { run: runId, event: e.id, err: toErrorPayload(err) },
            'event not acknowledged by JetStream',
          );
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  private closedHard(): boolean {
    return this.o.bus.nc.isClosed();
  }

  private armIdleSnapshot(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.dirty && !this.closed) void this.snapshot();
    }, this.o.idleSnapshotMs);
    this.idleTimer.unref();
  }

  /**
   * Takes the state now (between frames: never while a frame's events await their acks) and
   * writes it after any write still in flight, so writes land in order.
   */
  private snapshot(): Promise<void> {
    clearTimeout(this.idleTimer);
    if (!this.dirty) return this.snapshotting;
    const body: RunSnapshot = {
      version: 1,
      runId: this.run.runId,
      generation: this.run.generation,
      ...this.state,
      engine: this.engine.snapshot(),
    };
    this.dirty = false;
    const next = this.snapshotting.then(() => this.writeSnapshot(body));
    this.snapshotting = next;
    return next;
  }

  private async writeSnapshot(body: RunSnapshot): Promise<void> {
    try {
      await this.o.kv.put(this.run.runId, new TextEncoder().encode(JSON.stringify(body)));
      this.lastSnapshotTimeMs = body.lastTimeMs;
    } catch (err) {
      // The next frame (or the idle timer) tries again with newer state.
      this.dirty = true;
      this.o.metrics.snapshotErrors.inc();
      this.o.logger.warn(
        { run: this.run.runId, err: toErrorPayload(err) },
        'rules state snapshot failed',
      );
    }
  }
}

async function readSnapshot(o: RuleRunOptions, runId: string): Promise<RunSnapshot | undefined> {
  let entry;
  try {
    entry = await o.kv.get(runId);
  } catch (err) {
    o.metrics.snapshotErrors.inc();
    // Starting without the state would repeat or lose events: refuse, the scheduler retries.
    throw new UnavailableError(`cannot read the rules state of run ${runId}`, { cause: err });
  }
  if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
  try {
    const snap = JSON.parse(new TextDecoder().decode(entry.value)) as RunSnapshot;
    if (snap.version !== 1) throw new Error(`snapshot version ${String(snap.version)}`);
    return snap;
  } catch (err) {
    o.metrics.snapshotErrors.inc();
    o.logger.warn(
      { run: runId, err: toErrorPayload(err) },
      'unreadable rules state; starting fresh',
    );
    return undefined;
  }
}
