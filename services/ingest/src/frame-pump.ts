import { ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FrameDetections, FrameRef } from '@sie/contracts';
import { ModelError, UnavailableError, asSieError, type SieError } from '@sie/errors';
import type { Logger, Tracer } from '@sie/telemetry';
import type { Detector } from './detector.js';
import { LogLimiter } from './log-limiter.js';
import type { RunMetrics } from './metrics.js';
import type { RunPublisher } from './publisher.js';

/**
 * `latest`: a newer frame replaces the one waiting (cameras, paced files): never build latency.
 * `every`: the source is paused while a frame waits (files read as fast as possible): no drops.
 */
export type FlowMode = 'latest' | 'every';

export interface FramePumpOptions {
  runId: string;
  tenantId: string;
  modelId: string;
  scoreThreshold: number;
  classes: string[];
  mode: FlowMode;
  detector: Detector;
  publisher: RunPublisher;
  metrics: RunMetrics;
  tracer: Tracer;
  logger: Logger;
  /** Backpressure on the decoder (`every` mode). */
  pauseSource(): void;
  resumeSource(): void;
  /** An inference answer that no later frame can fix (unknown model): the run must fail. */
  onFatal(err: SieError): void;
}

// Errors that will come back for every frame: the run's configuration, not the frame, is wrong.
const FATAL_CODES = new Set(['model_not_found', 'model_error', 'invalid_argument']);

/**
 * Moves frame references from the ring to inference and detections to the bus, with at most one
 * Detect in flight per run and at most one frame waiting behind it.
 */
export class FramePump {
  private inflight = false;
  private waiting: FrameRef | undefined;
  private stopped = false;
  /** Whether inference answered a frame of this run: the model was there. */
  private detected = false;
  private idleWaiters: (() => void)[] = [];
  private readonly errorLog = new LogLimiter(10_000);

  constructor(private readonly o: FramePumpOptions) {}

  /** A frame was written to the ring. */
  offer(ref: FrameRef): void {
    if (this.stopped) return;
    if (!this.inflight) {
      this.dispatch(ref);
      return;
    }
    if (this.waiting) this.o.metrics.droppedFrame('queue_full');
    this.waiting = ref;
    if (this.o.mode === 'every') this.o.pauseSource();
  }

  /** Resolves once no frame is in flight or waiting (a file's last frame was published). */
  idle(): Promise<void> {
    if (!this.inflight && !this.waiting) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops publishing; a Detect still in flight is ignored when it returns. */
  stop(): void {
    this.stopped = true;
    if (this.waiting) this.waiting = undefined;
    this.notifyIdle();
  }

  private dispatch(ref: FrameRef): void {
    this.inflight = true;
    void this.process(ref).finally(() => {
      this.inflight = false;
      if (this.stopped) return this.notifyIdle();
      const next = this.waiting;
      this.waiting = undefined;
      if (!next) return this.notifyIdle();
      this.dispatch(next);
      // Resuming may hand over the next frame synchronously: it must find this one in flight.
      if (this.o.mode === 'every') this.o.resumeSource();
    });
  }

  private async process(ref: FrameRef): Promise<void> {
    const o = this.o;
    // Each processed frame is a root span: its trace follows it through inference, rules, render.
    const span = o.tracer.startSpan(
      'ingest.frame',
      { attributes: { 'sie.run': o.runId, 'sie.frame.seq': ref.seq } },
      ROOT_CONTEXT,
    );
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    const started = performance.now();
    try {
      const response = await o.detector.detect(
        { modelId: o.modelId, frame: ref, scoreThreshold: o.scoreThreshold, classes: o.classes },
        ctx,
      );
      if (this.stopped) return;
      const message: FrameDetections = {
        frame: ref,
        detections: response.detections,
        modelId: response.modelId || o.modelId,
        timings: response.timings,
        tenantId: o.tenantId,
        latencyMs: nowMs() - ref.captureTimeMs,
      };
      o.publisher.detections(message, ctx);
      this.detected = true;
      o.metrics.publishedFrame(performance.now() - started);
    } catch (thrown) {
      const err = asSieError(thrown);
      // An error exports this frame's whole trace, whatever the sampling ratio (a slot overwritten
      // under load is a counted drop, not an error).
      if (err.code !== 'frame_overwritten') {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      }
      if (!this.stopped) this.failed(err, ref);
    } finally {
      span.end();
    }
  }

  private failed(err: SieError, ref: FrameRef): void {
    const o = this.o;
    if (err.code === 'frame_overwritten') {
      o.metrics.droppedFrame('slot_overwritten');
      return;
    }
    if (err.code === 'model_not_found' && this.detected) {
      // The model answered earlier frames: inference lost it (it restarted). A restart of the
      // run loads it again (the scheduler loads a run's model before placing it), so the run
      // fails as unavailable (which the scheduler restarts), not as a bad model.
      this.stop();
      o.onFatal(
        new UnavailableError(
          `inference no longer has model ${o.modelId} (it restarted?): ${err.message}`,
          { cause: err },
        ),
      );
      return;
    }
    if (FATAL_CODES.has(err.code)) {
      this.stop();
      o.onFatal(
        err instanceof ModelError
          ? err
          : new ModelError(`model ${o.modelId}: ${err.message}`, o.modelId, { cause: err }),
      );
      return;
    }
    o.metrics.droppedFrame('inference_error');
    this.errorLog.maybe((suppressed) =>
      o.logger.warn(
        { err: err.toPayload(), seq: ref.seq, suppressed },
        'Detect failed; frame dropped (further failures are logged every 10 s)',
      ),
    );
  }

  private notifyIdle(): void {
    if (!this.stopped && (this.inflight || this.waiting)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Wall-clock time with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
