import { performance } from 'node:perf_hooks';
import { detectionsSubject, overlaysSubject, type Bus, type Subscription } from '@sie/bus';
import { FrameDetections, Overlay, type FrameRef, type RunSpec, type Shape } from '@sie/contracts';
import { FrameOverwrittenError } from '@sie/errors';
import type { FrameStoreReaders } from '@sie/framestore';
import { buildEncodeArgv, type H264Encoder } from '@sie/media';
import {
  SpanStatusCode,
  trace,
  type Context,
  type Logger,
  type Span,
  type Tracer,
} from '@sie/telemetry';
import { resizeNearest, type Raster } from './draw.js';
import type { FrameCapture } from './capture/frame-capture.js';
import { SupervisedEncoder } from './encoder.js';
import type { EventSnapshots } from './event-snapshots.js';
import type { RenderRunMetrics } from './metrics.js';
import { drawShapes, makeSlate, type DrawStyle } from './overlay.js';
import type { RunPreview } from './preview.js';
import { FramePacer, nextRepeatAtMs } from './clock.js';

export interface RenderRunSettings {
  rtspPublishUrl: string;
  rtspTransport: 'tcp' | 'udp';
  encoder: H264Encoder;
  defaultFps: number;
  gopSeconds: number;
  bitrateKbps: number;
  slateAfterMs: number;
  fallbackWidth: number;
  fallbackHeight: number;
  style: DrawStyle;
  killGraceMs: number;
  encoderRestart: { initialMs: number; maxMs: number };
}

export interface RenderRunDeps {
  bus: Bus;
  readers: FrameStoreReaders;
  metrics: RenderRunMetrics;
  logger: Logger;
  preview: RunPreview | undefined;
  /** Spans `render.frame` (children of the frame's overlay or detections); global by default. */
  tracer?: Tracer;
  /** Event snapshots, when the pipeline has them on. */
  snapshots?: EventSnapshots | undefined;
  /** Dataset capture, when the pipeline has it on. */
  capture?: FrameCapture | undefined;
}

/** The output of a run: the RTSP URL it publishes to, its size and rate. */
export interface RenderOutput {
  url: string;
  fps: number;
  width: number | undefined;
  height: number | undefined;
}

/**
 * The run's output rate when the pipeline sets one: its `outputFps`, else its `sampleFps`;
 * undefined when it follows the source.
 */
export function pinnedFpsOf(run: RunSpec): number | undefined {
  const p = run.pipeline;
  if (p && p.outputFps > 0) return p.outputFps;
  if (p && p.sampleFps > 0) return p.sampleFps;
  return undefined;
}

/** The pinned rate, else `defaultFps` (before the source's own rate is known). */
export function outputFpsOf(run: RunSpec, defaultFps: number): number {
  return pinnedFpsOf(run) ?? defaultFps;
}

/**
 * The source's frame rate from the presentation times of its first frames: the shortest step
 * between two of them (frames skipped by latest-frame-wins only make steps longer). Undefined
 * until `minFrames` have been seen; clamped to 1-60 fps.
 */
export function estimateSourceFps(ptsMs: readonly number[], minFrames = 5): number | undefined {
  if (ptsMs.length < minFrames) return undefined;
  let step = Infinity;
  for (let i = 1; i < ptsMs.length; i++) {
    const d = ptsMs[i]! - ptsMs[i - 1]!;
    if (d >= 5 && d < step) step = d;
  }
  if (!Number.isFinite(step)) return undefined;
  return Math.min(60, Math.max(1, Math.round((1000 / step) * 100) / 100));
}

/** `<publish url>/<output path>` (the output path defaults to the run id). */
export function outputUrlOf(run: RunSpec, publishUrl: string): string {
  const path = (run.outputPath || run.runId).replace(/^\/+/, '');
  return `${publishUrl.replace(/\/+$/, '')}/${path}`;
}

/**
 * The URL the encoder publishes to: the output URL with the run's generation (`?sie_gen=N`), so
 * sie's RTSP server lets the render of a moved run (a newer generation) take the path over from
 * the old node's render at once, and never the other way round. Viewers use the plain URL.
 */
export function publishUrlOf(outputUrl: string, generation: number): string {
  return generation > 0 ? `${outputUrl}?sie_gen=${generation}` : outputUrl;
}

/**
 * A drawing style from the pipeline's rules JSON (`{"style": {boxThickness, fontSizePx, …}}`,
 * `@sie/pipeline`'s style), over the service defaults.
 */
export function styleOf(run: RunSpec, defaults: DrawStyle): DrawStyle {
  const json = run.pipeline?.rulesJson;
  if (!json) return defaults;
  try {
    const parsed = JSON.parse(json) as { style?: Record<string, unknown> };
    const s = parsed.style;
    if (!s || typeof s !== 'object') return defaults;
    const int = (v: unknown, d: number, max: number): number =>
      typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max ? v : d;
    return {
      boxThickness: int(s.boxThickness, defaults.boxThickness, 32),
      lineThickness: int(s.lineThickness, defaults.lineThickness, 32),
      // The pipeline's style names a font size; glyphs are 16 px high at scale 1.
      fontScale:
        typeof s.fontSizePx === 'number' && s.fontSizePx > 0
          ? Math.min(8, Math.max(1, Math.round(s.fontSizePx / 16)))
          : defaults.fontScale,
    };
  } catch {
    return defaults;
  }
}

/**
 * One run's output. Overlays (`sie.ovl.<run>`) and detections (`sie.det.<run>`) say which frame
 * is the newest; when its overlay arrives (paced to the output rate, clock.ts) the frame is read
 * from the frame store, the overlay's shapes drawn on it and the result written to ffmpeg
 * (H.264 → RTSP, stamped with the wall clock). A frame with no overlay of its own reuses the
 * latest overlay; when frames stop, the clock repeats the last one at the output rate and after
 * `slateAfterMs` writes the "source reconnecting" slate, so the output never stops.
 */
export class RenderRun {
  readonly output: RenderOutput;
  private readonly fixedSize: boolean;
  private width: number | undefined;
  private height: number | undefined;
  private readonly style: DrawStyle;
  /** False until the output rate is settled (pinned by the pipeline, or the source's). */
  private fpsKnown: boolean;
  private readonly ptsSamples: number[] = [];
  private readonly subs: Subscription[] = [];
  private encoder: SupervisedEncoder | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the clock last ticked (performance.now()). */
  private lastTickAt = 0;
  /** Paces new frames to the nominal rate on average (clock.ts). */
  private readonly pacer = new FramePacer(performance.now());
  private readonly startedAt = performance.now();
  private stopped = false;

  /** The newest frame known and whether it was drawn yet. */
  private latestRef: FrameRef | undefined;
  private latestRefAt = 0;
  /** When the last overlay came (rules draws the boxes of most frames). */
  private lastOverlayAt = -Infinity;
  private latestDrawn = true;
  /** Whether the newest frame's end-to-end latency was observed (once per frame). */
  private latestTimed = true;
  /** The newest frame's trace context (its overlay's when that came, else its detections'). */
  private latestCtx: Context | undefined;
  /** The span of the frame drawn this tick, ended once the frame is handed to the encoder. */
  private frameSpan: Span | undefined;
  private readonly tracer: Tracer;
  /** The newest overlay's shapes and the frame size they were made for. */
  private shapes: readonly Shape[] = [];
  private shapesFrame: { width: number; height: number } | undefined;
  private shapesChanged = false;

  private canvas: Raster | undefined;
  private scratch: Buffer | undefined;
  private slate: Raster | undefined;
  private hasLive = false;

  constructor(
    readonly run: RunSpec,
    private readonly settings: RenderRunSettings,
    readonly deps: RenderRunDeps,
  ) {
    const p = run.pipeline;
    this.fixedSize = !!p && p.outputWidth > 0 && p.outputHeight > 0;
    if (p && this.fixedSize) {
      this.width = p.outputWidth;
      this.height = p.outputHeight;
    }
    this.style = styleOf(run, settings.style);
    this.tracer = deps.tracer ?? trace.getTracer('sie-render');
    this.fpsKnown = pinnedFpsOf(run) !== undefined;
    this.output = {
      url: outputUrlOf(run, settings.rtspPublishUrl),
      fps: outputFpsOf(run, settings.defaultFps),
      width: this.width,
      height: this.height,
    };
  }

  get runId(): string {
    return this.run.runId;
  }

  /** The encoder's ffmpeg (tests and diagnostics). */
  get encoderPid(): number | undefined {
    return this.encoder?.pid;
  }

  start(): void {
    const { bus } = this.deps;
    const runId = this.run.runId;
    this.subs.push(
      bus.subscribe(overlaysSubject(runId), Overlay, (o, msg) =>
        this.onOverlay(o, msg.traceContext),
      ),
      bus.subscribe(detectionsSubject(runId), FrameDetections, (d, msg) => {
        this.deps.capture?.onDetections(d);
        if (!d.frame) return;
        this.onFrame(d.frame, msg.traceContext, false);
        // Without overlays (no rules for this run, or rules down) the detections are all the
        // frame will get: show it now.
        if (performance.now() - this.lastOverlayAt > 2000 / this.output.fps) this.pullTick();
      }),
    );
    this.deps.snapshots?.start();
    if (this.fpsKnown && this.width !== undefined && this.height !== undefined) {
      this.startEncoder(this.width, this.height);
    }
    this.lastTickAt = performance.now();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const s of this.subs.splice(0)) s.unsubscribe();
    await Promise.all([
      this.encoder?.stop(),
      this.deps.preview?.close(),
      this.deps.snapshots?.stop(),
      this.deps.capture?.stop(),
    ]);
    if (this.latestRef) this.deps.readers.release(this.latestRef.store);
    this.frameSpan?.end();
    this.frameSpan = undefined;
  }

  /** The newest annotated live frame (what the output shows), if one was drawn yet. */
  latestAnnotated(): Raster | undefined {
    return this.hasLive ? this.canvas : undefined;
  }

  private onOverlay(o: Overlay, ctx: Context): void {
    const gen = o.frame?.generation ?? 0;
    if (gen !== 0 && gen !== this.run.generation) return;
    this.deps.snapshots?.onOverlay(o);
    this.shapes = o.shapes;
    this.shapesFrame = o.frame ? { width: o.frame.width, height: o.frame.height } : undefined;
    this.shapesChanged = true;
    this.lastOverlayAt = performance.now();
    if (!o.frame) return;
    this.onFrame(o.frame, ctx, true);
    // The newest frame has its own boxes now: show it without waiting for the clock.
    const cur = this.latestRef;
    if (cur && cur.store === o.frame.store && cur.seq === o.frame.seq) this.pullTick();
  }

  /**
   * A frame is ready (its overlay, or its detections when no overlays come): it goes to the
   * encoder now, or as soon as the minimum spacing after the previous output allows (clock.ts).
   */
  private pullTick(): void {
    if (this.stopped || !this.fpsKnown || !this.encoder || this.latestDrawn) return;
    const wait = this.pacer.delayMs(performance.now(), this.lastTickAt, 1000 / this.output.fps);
    clearTimeout(this.timer);
    if (wait > 0) this.timer = setTimeout(() => this.nextTick(), wait);
    else this.nextTick();
  }

  /** A frame was announced (by its detections or its overlay); the newest one wins. */
  private onFrame(ref: FrameRef, ctx: Context, fromOverlay: boolean): void {
    // While a run moves between nodes, both generations' frames are announced: draw only ours
    // (0: a publisher that does not say).
    if (ref.generation !== 0 && ref.generation !== this.run.generation) return;
    const cur = this.latestRef;
    if (cur && cur.store === ref.store && cur.seq === ref.seq) {
      // The overlay (made by rules from these detections) is the deeper parent for this frame.
      if (fromOverlay) this.latestCtx = ctx;
      return;
    }
    // A frame older than the newest one (an overlay late behind the next frame's detections)
    // changes nothing. Capture time, not seq: a restarted ingest starts its seqs at 1 again.
    if (cur && ref.captureTimeMs < cur.captureTimeMs) return;
    this.deps.metrics.frameIn();
    if (!this.fpsKnown && this.ptsSamples.length < 16) this.ptsSamples.push(ref.ptsMs);
    if (!this.latestDrawn) this.deps.metrics.dropped('superseded');
    this.latestRef = ref;
    this.latestCtx = ctx;
    this.latestTimed = false;
    this.latestRefAt = performance.now();
    this.latestDrawn = false;
  }

  /** Arms the clock's own next tick: a repeat of the last frame (or the slate) if none comes. */
  private schedule(): void {
    if (this.stopped) return;
    const period = 1000 / this.output.fps;
    const now = performance.now();
    // Frames are still coming (the last within two periods): give a late one the chance to
    // beat the repeat, so no frame is encoded twice for a little jitter.
    const live = this.latestRef !== undefined && now - this.latestRefAt < 2 * period;
    const at = nextRepeatAtMs(this.lastTickAt, period, live);
    this.timer = setTimeout(() => this.nextTick(), Math.max(0, at - now));
  }

  /** Runs a tick (a frame is ready, or the clock's own) and arms the next one. */
  private nextTick(): void {
    this.lastTickAt = performance.now();
    const fresh = this.latestRef !== undefined && !this.latestDrawn;
    try {
      this.tick();
      if (fresh && this.latestDrawn) this.pacer.took(this.lastTickAt, 1000 / this.output.fps);
    } catch (err) {
      this.deps.logger.error({ err, run: this.runId }, 'render tick failed');
    }
    this.schedule();
  }

  private tick(): void {
    const now = performance.now();
    const sourceQuiet = now - (this.latestRef ? this.latestRefAt : this.startedAt);
    const down = sourceQuiet > this.settings.slateAfterMs;
    if (!this.fpsKnown) {
      // Follow the source's rate: wait for a few frames to measure it (or use the default when
      // the source does not deliver), then start the clock at that rate.
      const fps = estimateSourceFps(this.ptsSamples) ?? (down ? this.settings.defaultFps : 0);
      if (fps === 0) return;
      this.fpsKnown = true;
      this.output.fps = fps;
      if (this.width !== undefined && this.height !== undefined && !this.encoder) {
        this.startEncoder(this.width, this.height);
      }
    }
    if (this.width === undefined || this.height === undefined) {
      // The output size follows the first frame; a source that never comes gets the fallback
      // size so the slate still goes out.
      if (this.latestRef && this.latestRef.width > 0) {
        this.resize(this.latestRef.width, this.latestRef.height);
      } else if (down) {
        this.resize(this.settings.fallbackWidth, this.settings.fallbackHeight);
      } else {
        return;
      }
    } else if (
      !this.fixedSize &&
      this.latestRef &&
      !this.latestDrawn &&
      (this.latestRef.width !== this.width || this.latestRef.height !== this.height)
    ) {
      // The source changed size (restarted with another resolution): follow it.
      this.resize(this.latestRef.width, this.latestRef.height);
    }
    const width = this.width!;
    const height = this.height!;

    let frame: Raster;
    let slate = false;
    if (down || !this.hasLive) {
      if (!down && !this.drawLatest(width, height)) return;
      if (down) {
        this.slate ??= makeSlate(width, height, [
          'source reconnecting',
          `run ${this.runId}`.slice(0, 60),
        ]);
        frame = this.slate;
        slate = true;
      } else {
        frame = this.canvas!;
      }
    } else {
      this.drawLatest(width, height);
      frame = this.canvas!;
    }

    const result = this.encoder ? this.encoder.write(frame.data) : 'down';
    if (result === 'written' && !slate && this.frameSpan && !this.latestTimed && this.latestRef) {
      // Capture (ingest's wall clock) → handed to the encoder, once per frame.
      this.latestTimed = true;
      this.deps.metrics.encodedAfter(
        performance.timeOrigin + performance.now() - this.latestRef.captureTimeMs,
      );
    }
    if (result === 'written') this.deps.metrics.frameOut(slate);
    else this.deps.metrics.dropped(result === 'busy' ? 'encoder_busy' : 'encoder_down');
    if (this.frameSpan) {
      this.frameSpan.setAttribute('sie.render.result', slate ? 'slate' : result);
      this.frameSpan.end();
      this.frameSpan = undefined;
    }
    this.deps.preview?.offer(frame.data, width, height, now);
  }

  /**
   * Redraws the canvas when a new frame or overlay came since the last tick; true when the canvas
   * holds a live frame.
   */
  private drawLatest(width: number, height: number): boolean {
    const ref = this.latestRef;
    if (!ref || (this.latestDrawn && !this.shapesChanged)) return this.hasLive;
    const t0 = performance.now();
    this.frameSpan?.end();
    this.frameSpan = this.tracer.startSpan(
      'render.frame',
      { attributes: { 'sie.run': this.runId, 'sie.frame.seq': ref.seq } },
      this.latestCtx,
    );
    let pixels: Buffer;
    try {
      pixels = this.deps.readers.read(ref, this.scratch);
      this.scratch = pixels;
    } catch (err) {
      this.latestDrawn = true;
      this.shapesChanged = false;
      this.frameSpan.setAttribute('sie.render.result', 'unreadable');
      if (!(err instanceof FrameOverwrittenError)) {
        this.frameSpan.setStatus({ code: SpanStatusCode.ERROR, message: String(err) });
      }
      this.frameSpan.end();
      this.frameSpan = undefined;
      if (err instanceof FrameOverwrittenError) this.deps.metrics.dropped('slot_overwritten');
      else {
        this.deps.metrics.dropped('read_error');
        this.deps.logger.debug({ err, run: this.runId }, 'frame read failed');
      }
      return this.hasLive;
    }
    const canvas = (this.canvas ??= {
      data: Buffer.alloc(width * height * 3),
      width,
      height,
    });
    if (ref.width === width && ref.height === height && pixels.length === canvas.data.length) {
      pixels.copy(canvas.data);
    } else {
      resizeNearest({ data: pixels, width: ref.width, height: ref.height }, canvas);
    }
    const fw = this.shapesFrame?.width || ref.width;
    const fh = this.shapesFrame?.height || ref.height;
    drawShapes(canvas, this.shapes, this.style, fw, fh);
    this.latestDrawn = true;
    this.shapesChanged = false;
    this.hasLive = true;
    this.deps.metrics.drew(performance.now() - t0);
    return true;
  }

  private resize(width: number, height: number): void {
    this.width = width;
    this.height = height;
    this.output.width = width;
    this.output.height = height;
    this.canvas = undefined;
    this.slate = undefined;
    this.hasLive = false;
    this.latestDrawn = this.latestRef === undefined;
    const old = this.encoder;
    this.encoder = undefined;
    void (old ? old.stop() : Promise.resolve()).then(() => {
      if (!this.stopped && this.width === width && this.height === height) {
        this.startEncoder(width, height);
      }
    });
  }

  private startEncoder(width: number, height: number): void {
    const fps = this.output.fps;
    const argv = buildEncodeArgv({
      width,
      height,
      fps,
      encoder: this.settings.encoder,
      gopFrames: Math.max(1, Math.round(fps * this.settings.gopSeconds)),
      outputUrl: publishUrlOf(this.output.url, this.run.generation),
      rtspTransport: this.settings.rtspTransport,
      ...(this.settings.bitrateKbps > 0 ? { bitrateKbps: this.settings.bitrateKbps } : {}),
    });
    this.encoder = new SupervisedEncoder({
      name: `${this.runId} h264`,
      argv,
      killGraceMs: this.settings.killGraceMs,
      restart: this.settings.encoderRestart,
      logger: this.deps.logger,
      onRestart: () => this.deps.metrics.encoderRestarted(),
    });
    this.encoder.start();
    this.deps.logger.info(
      { run: this.runId, url: this.output.url, width, height, fps, encoder: this.settings.encoder },
      'encoder started',
    );
  }
}
