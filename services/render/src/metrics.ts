import { Counter, E2E_LATENCY_BUCKETS_MS, Gauge, Histogram, type Registry } from '@sie/telemetry';

/**
 * Why a frame did not make it into the output:
 * - `slot_overwritten`: the frame store reused the slot before the frame was read;
 * - `read_error`: the frame could not be read (ring missing, bad reference);
 * - `superseded`: a newer frame arrived before the output clock drew this one;
 * - `encoder_busy`: ffmpeg had not taken the previous frame yet (the tick was skipped);
 * - `encoder_down`: ffmpeg was not running (restarting) at the tick.
 */
export type RenderDropReason =
  'slot_overwritten' | 'read_error' | 'superseded' | 'encoder_busy' | 'encoder_down';
export const RENDER_DROP_REASONS: readonly RenderDropReason[] = [
  'slot_overwritten',
  'read_error',
  'superseded',
  'encoder_busy',
  'encoder_down',
];

export const DRAW_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 25, 50];

/** The render service's Prometheus metrics; each run's series are removed when it ends. */
export class RenderMetrics {
  readonly framesOut: Counter<'run'>;
  readonly slateFrames: Counter<'run'>;
  readonly dropped: Counter<'run' | 'reason'>;
  readonly encodeRestarts: Counter<'run'>;
  readonly drawMs: Histogram;
  readonly e2eLatencyMs: Histogram<'run'>;
  readonly activeRuns: Gauge;
  readonly previewClients: Gauge;
  readonly snapshotsWritten: Counter;
  readonly snapshotErrors: Counter;
  readonly captureFrames: Counter<'destination'>;
  readonly captureErrors: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.framesOut = new Counter({
      name: 'sie_render_frames_out_total',
      help: 'Frames written to the encoder (live and slate)',
      labelNames: ['run'],
      registers,
    });
    this.slateFrames = new Counter({
      name: 'sie_render_slate_frames_total',
      help: 'Slate frames written while the source was down',
      labelNames: ['run'],
      registers,
    });
    this.dropped = new Counter({
      name: 'sie_render_dropped_total',
      help: 'Frames or ticks that did not reach the output, by reason',
      labelNames: ['run', 'reason'],
      registers,
    });
    this.encodeRestarts = new Counter({
      name: 'sie_render_encode_restarts_total',
      help: 'Times a run encoder (ffmpeg) was restarted after it died',
      labelNames: ['run'],
      registers,
    });
    this.drawMs = new Histogram({
      name: 'sie_render_draw_ms',
      help: 'Time to read a frame and draw its overlay, milliseconds',
      buckets: DRAW_BUCKETS_MS,
      registers,
    });
    this.e2eLatencyMs = new Histogram({
      name: 'sie_render_e2e_latency_ms',
      help: 'Capture of a frame to its handover to the encoder, milliseconds',
      labelNames: ['run'],
      buckets: E2E_LATENCY_BUCKETS_MS,
      registers,
    });
    this.activeRuns = new Gauge({
      name: 'sie_render_active_runs',
      help: 'Runs this render service holds',
      registers,
    });
    this.previewClients = new Gauge({
      name: 'sie_render_preview_clients',
      help: 'Browser preview connections open',
      registers,
    });
    this.snapshotsWritten = new Counter({
      name: 'sie_render_snapshots_written_total',
      help: 'Event snapshots (JPEG of the annotated frame) written',
      registers,
    });
    this.snapshotErrors = new Counter({
      name: 'sie_render_snapshot_errors_total',
      help: 'Event snapshots that could not be made or written',
      registers,
    });
    this.captureFrames = new Counter({
      name: 'sie_render_capture_frames_total',
      help: 'Frames written to a capture dataset, by destination type',
      labelNames: ['destination'],
      registers,
    });
    this.captureErrors = new Counter({
      name: 'sie_render_capture_errors_total',
      help: 'Sampled frames not captured (unreadable, writer behind, destination failed)',
      registers,
    });
  }

  forRun(run: string): RenderRunMetrics {
    return new RenderRunMetrics(run, this);
  }
}

/** One run's counters, also kept as plain numbers for its heartbeats. */
export class RenderRunMetrics {
  framesIn = 0;
  framesOut = 0;
  framesDropped = 0;
  slateFrames = 0;
  restarts = 0;
  private readonly outChild: { inc(): void };
  private readonly slateChild: { inc(): void };
  private removed = false;

  constructor(
    readonly run: string,
    private readonly m: RenderMetrics,
  ) {
    this.outChild = m.framesOut.labels({ run });
    this.slateChild = m.slateFrames.labels({ run });
  }

  frameIn(): void {
    this.framesIn++;
  }

  frameOut(slate: boolean): void {
    this.framesOut++;
    if (slate) this.slateFrames++;
    if (this.removed) return;
    this.outChild.inc();
    if (slate) this.slateChild.inc();
  }

  dropped(reason: RenderDropReason): void {
    this.framesDropped++;
    if (!this.removed) this.m.dropped.inc({ run: this.run, reason });
  }

  encoderRestarted(): void {
    this.restarts++;
    if (!this.removed) this.m.encodeRestarts.inc({ run: this.run });
  }

  drew(ms: number): void {
    this.m.drawMs.observe(ms);
  }

  /** A live frame went to the encoder `ms` after its capture. */
  encodedAfter(ms: number): void {
    if (!this.removed && Number.isFinite(ms) && ms >= 0) {
      this.m.e2eLatencyMs.observe({ run: this.run }, ms);
    }
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    const run = this.run;
    this.m.framesOut.remove({ run });
    this.m.slateFrames.remove({ run });
    this.m.encodeRestarts.remove({ run });
    this.m.e2eLatencyMs.remove({ run });
    for (const reason of RENDER_DROP_REASONS) this.m.dropped.remove({ run, reason });
  }
}
