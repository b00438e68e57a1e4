import { PixelFormat, Stage, StageEventKind, type FrameRef, type ModelFrame } from '@sie/contracts';
import {
  FrameStoreError,
  SourceInvalidError,
  SourceLostError,
  SourceUnreachableError,
  asSieError,
  type SieError,
} from '@sie/errors';
import { FrameStoreWriter, storeNameForRun, type FrameStoreAccess } from '@sie/framestore';
import {
  classifyFfmpegFailure,
  ffmpegErrorReason,
  probeSource,
  redactUrl,
  resolveSource,
  startDecoder,
  type DecoderExit,
  type FfmpegProcess,
  type ModelFrameOptions,
  type OpenableSource,
} from '@sie/media';
import type { Logger, Tracer } from '@sie/telemetry';
import type { Detector } from './detector.js';
import { FramePump, nowMs } from './frame-pump.js';
import type { RunMetrics } from './metrics.js';
import { stageReport, type RunPublisher } from './publisher.js';
import { retryDelayMs } from './retry.js';
import type { IngestRunSpec } from './run-spec.js';

/** Service settings every run uses. */
export interface RunSettings {
  nodeId: string;
  frameStoreDir: string;
  frameStoreAccess: FrameStoreAccess;
  frameStoreSlots: number;
  probeTimeoutMs: number;
  stallTimeoutMs: number;
  heartbeatIntervalMs: number;
  killGraceMs: number;
  decodeThreads: number;
  /** ffmpeg letterboxes each frame to the model input too (a second ring): see the config. */
  letterboxInDecoder: boolean;
}

export interface IngestRunDeps {
  settings: RunSettings;
  detector: Detector;
  publisher: RunPublisher;
  metrics: RunMetrics;
  tracer: Tracer;
  logger: Logger;
}

export type RunOutcome =
  | { kind: 'stopped'; reason: string }
  | { kind: 'ended' }
  | { kind: 'failed'; error: SieError; attempt: number };

type Connect = 'running' | 'aborted' | SieError;

/** Ends the lifecycle early; `supervise` turns it into the outcome. */
class Finish {
  constructor(readonly outcome: RunOutcome) {}
}

/**
 * One run on this node, supervised like a static source: probe and decode with startup retries,
 * a frame-arrival watchdog, reconnects when the source is lost, and a stage report for every
 * change (STARTED, RECONNECTING, ENDED, FAILED, STOPPED). Whatever happens, the ring, ffmpeg,
 * timers and metric series are released before the final report goes out.
 */
export class IngestRun {
  readonly done: Promise<RunOutcome>;
  private readonly abort = new AbortController();
  private readonly pump: FramePump;
  private readonly log: Logger;
  private decoder: FfmpegProcess | undefined;
  /** What ffmpeg opens now: the source, or for ONVIF the stream URI resolved at this connect. */
  private openable: OpenableSource | undefined;
  private writer: FrameStoreWriter | undefined;
  /** The ring of model-size copies, while the decoder makes them. */
  private modelWriter: FrameStoreWriter | undefined;
  private modelFrame: ModelFrame | undefined;
  /** The letterbox the run's model takes, as inference reported it at the last connect. */
  private modelInput: ModelFrameOptions | null = null;
  /** Ring seq before this session's first frame: frame `index` of the session is base+index+1. */
  private sessionSeqBase = 0;
  /** Output frames of this session written and waiting for their model-size copy. */
  private awaitingCopy: FrameRef[] = [];
  private sessionCopies = 0;
  private frameSize: { width: number; height: number } | undefined;
  private frameIntervalMs = 0;
  private stopReason: string | undefined;
  private fatal: SieError | undefined;
  private stalled = false;
  private lastFrameAt = 0;
  private sessionFrames = 0;
  private sessionPtsBase = 0;
  private sessionStartedAt = 0;
  private lastPtsMs = -1;
  private onFirstFrame: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private lastBeat = { at: 0, framesOut: 0 };

  constructor(
    readonly spec: IngestRunSpec,
    private readonly deps: IngestRunDeps,
  ) {
    this.log = deps.logger.child({ run: spec.runId, tenant: spec.tenantId, stage: 'ingest' });
    this.pump = new FramePump({
      runId: spec.runId,
      tenantId: spec.tenantId,
      modelId: spec.modelId,
      scoreThreshold: spec.scoreThreshold,
      classes: spec.classes,
      mode: spec.realtime ? 'latest' : 'every',
      detector: deps.detector,
      publisher: deps.publisher,
      metrics: deps.metrics,
      tracer: deps.tracer,
      logger: this.log,
      pauseSource: () => this.decoder?.pause(),
      resumeSource: () => {
        // Time spent waiting for inference is not a stalled source.
        this.lastFrameAt = Date.now();
        this.decoder?.resume();
      },
      onFatal: (err) => this.failHard(err),
    });
    this.done = this.supervise();
  }

  get runId(): string {
    return this.spec.runId;
  }

  get generation(): number {
    return this.spec.generation;
  }

  /** Kills ffmpeg, removes the ring, reports STOPPED; resolves when all of it is done. */
  stop(reason: string): Promise<RunOutcome> {
    if (this.stopReason === undefined) {
      this.stopReason = reason;
      this.abort.abort();
      void this.decoder?.stop();
    }
    return this.done;
  }

  private async supervise(): Promise<RunOutcome> {
    const { settings } = this.deps;
    this.lastBeat = { at: Date.now(), framesOut: 0 };
    this.heartbeatTimer = setInterval(() => this.beat(), settings.heartbeatIntervalMs);
    let outcome: RunOutcome;
    try {
      outcome = await this.lifecycle();
    } catch (err) {
      outcome =
        err instanceof Finish
          ? err.outcome
          : { kind: 'failed', error: asSieError(err), attempt: 0 };
    }
    // A stop wins over whatever the lifecycle was doing when it was asked to stop.
    if (this.stopReason !== undefined) outcome = { kind: 'stopped', reason: this.stopReason };
    await this.cleanup();
    this.finalReport(outcome);
    return outcome;
  }

  private async lifecycle(): Promise<RunOutcome> {
    const policy = this.spec.retry;
    let lastError: SieError | undefined;
    let attempt = 1;
    for (; ; attempt++) {
      const result = this.check(await this.connect(true), attempt);
      if (result === 'running') break;
      lastError = result;
      this.log.warn({ attempt, err: result.toPayload() }, 'source did not start');
      if (attempt >= policy.startupAttempts) {
        return this.failed(
          new SourceUnreachableError(
            `${this.url()} did not start after ${attempt} attempt(s): ${lastError.message}`,
            this.url(),
          ),
          attempt,
        );
      }
      await this.sleep(retryDelayMs(policy, attempt));
    }
    this.report(StageEventKind.STAGE_EVENT_KIND_STARTED, attempt);
    this.log.info({ attempt, size: this.frameSize }, 'source started');

    for (;;) {
      const exit = await this.runUntilExit();
      if (this.fatal) return this.failed(this.fatal, 0);
      if (this.stopReason !== undefined) throw new Finish(this.stoppedOutcome());
      if (this.spec.source.kind === 'file' && !this.spec.loop && exit.code === 0 && !this.stalled) {
        await this.raceAbort(this.pump.idle());
        // The last frames may still have hit an error no retry can fix.
        return this.fatal ? this.failed(this.fatal, 0) : { kind: 'ended' };
      }
      const lost = new SourceLostError(
        `${this.url()} was lost: ${this.lossReason(exit)}`,
        this.url(),
      );
      this.log.warn({ err: lost.toPayload() }, 'source lost; reconnecting');
      let back = false;
      let r = 1;
      for (; r <= policy.reconnectAttempts; r++) {
        this.report(StageEventKind.STAGE_EVENT_KIND_RECONNECTING, r, lost);
        await this.sleep(retryDelayMs(policy, r));
        const result = this.check(await this.connect(false), r);
        if (result === 'running') {
          back = true;
          break;
        }
        lastError = result;
        this.log.warn({ attempt: r, err: result.toPayload() }, 'reconnect failed');
      }
      if (!back) {
        const last = lastError && r > 1 ? `; last attempt: ${lastError.message}` : '';
        return this.failed(
          new SourceLostError(
            `${lost.message}; ${policy.reconnectAttempts} reconnect attempt(s) failed${last}`,
            this.url(),
          ),
          policy.reconnectAttempts,
        );
      }
      this.deps.metrics.reconnected();
      this.report(StageEventKind.STAGE_EVENT_KIND_STARTED, r);
      this.log.info({ attempt: r }, 'source back');
    }
  }

  /** Stop and implementation errors end the lifecycle; source errors go back to the caller. */
  private check(result: Connect, attempt: number): 'running' | SieError {
    if (result === 'aborted' || this.stopReason !== undefined) {
      throw new Finish(this.stoppedOutcome());
    }
    if (this.fatal) throw new Finish({ kind: 'failed', error: this.fatal, attempt });
    if (result !== 'running' && result.code !== 'source_unreachable') {
      // Not a video, a broken frame store …: retrying cannot help.
      throw new Finish({ kind: 'failed', error: result, attempt });
    }
    return result;
  }

  /** Probes (at startup), starts ffmpeg and waits for its first frame. */
  private async connect(probe: boolean): Promise<Connect> {
    if (this.abort.signal.aborted) return 'aborted';
    const { settings } = this.deps;
    // ONVIF cameras may hand out a different URI after a reboot: resolve on every (re)connect.
    try {
      const resolved = await this.raceAbort(
        resolveSource(this.spec.source, { timeoutMs: settings.probeTimeoutMs }),
      );
      if (resolved === 'aborted') return 'aborted';
      if (this.spec.source.kind === 'onvif') {
        this.log.info({ stream: redactUrl(resolved.url) }, 'ONVIF stream resolved');
      }
      this.openable = resolved;
    } catch (err) {
      return asSieError(err);
    }
    const openable = this.openable;
    if (probe || !this.frameSize) {
      try {
        const info = await this.raceAbort(
          probeSource(openable, settings.probeTimeoutMs, {
            rtspTransport: this.spec.rtspTransport,
          }),
        );
        if (info === 'aborted') return 'aborted';
        this.frameSize ??=
          this.spec.outputWidth > 0
            ? { width: this.spec.outputWidth, height: this.spec.outputHeight }
            : { width: info.width, height: info.height };
        const fps = this.spec.sampleFps > 0 ? this.spec.sampleFps : info.fps;
        this.frameIntervalMs = fps > 0 ? 1000 / fps : 0;
      } catch (err) {
        return asSieError(err);
      }
    }
    const size = this.frameSize;
    if (!size) return new SourceInvalidError(`${this.url()}: unknown frame size`, this.url());
    await this.learnModelInput(size);
    try {
      this.ensureWriter(size.width, size.height);
    } catch (err) {
      return asSieError(err);
    }

    const firstFrame = new Promise<'frame'>((resolve) => {
      this.onFirstFrame = () => resolve('frame');
    });
    const decoder = this.startSession(size.width, size.height);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.firstFrameTimeoutMs());
    });
    const first = await this.raceAbort(
      Promise.race([firstFrame, decoder.exited.then(() => 'exit' as const), timeout]),
    );
    clearTimeout(timer);
    this.onFirstFrame = undefined;
    if (first === 'frame') return 'running';
    if (first === 'aborted') return 'aborted';
    if (first === 'timeout') {
      await decoder.stop();
      return new SourceUnreachableError(
        `${this.url()}: no frame within ${this.firstFrameTimeoutMs()} ms`,
        this.url(),
      );
    }
    const exit = await decoder.exited;
    if (this.fatal) return this.fatal;
    if (exit.spawnError) {
      return new SourceUnreachableError(`cannot start ffmpeg: ${exit.spawnError}`, this.url());
    }
    if (exit.code === 0) {
      return new SourceInvalidError(
        `not a video: ${this.url()} has no decodable frames`,
        this.url(),
      );
    }
    return classifyFfmpegFailure(
      exit.stderrTail || `ffmpeg exited with code ${exit.code}`,
      openable,
    );
  }

  private startSession(width: number, height: number): FfmpegProcess {
    const { settings } = this.deps;
    this.stalled = false;
    this.sessionFrames = 0;
    this.sessionStartedAt = Date.now();
    this.sessionPtsBase = this.lastPtsMs < 0 ? 0 : this.lastPtsMs + (this.frameIntervalMs || 1);
    this.lastFrameAt = Date.now();
    this.sessionSeqBase = Math.max(this.writer?.lastSeq ?? 0, this.modelWriter?.lastSeq ?? 0);
    this.awaitingCopy = [];
    this.sessionCopies = 0;
    const model = this.modelWriter ? this.modelInput : null;
    const source = this.openable;
    if (!source) throw new Error('startSession before the source was resolved');
    const decoder = startDecoder({
      source,
      width,
      height,
      sampleFps: this.spec.sampleFps,
      // Live sources pace themselves; files and progressive HTTP are read at their frame rate.
      realtime: (source.kind === 'file' || source.kind === 'http') && this.spec.realtime,
      loop: this.spec.loop,
      rtspTransport: this.spec.rtspTransport,
      socketTimeoutMs: settings.stallTimeoutMs,
      threads: settings.decodeThreads || undefined,
      killGraceMs: settings.killGraceMs,
      onFrame: (frame, index) => this.onFrame(frame, index),
      ...(model
        ? { modelFrame: { ...model, onFrame: (frame, index) => this.onModelFrame(frame, index) } }
        : {}),
    });
    this.decoder = decoder;
    return decoder;
  }

  private onFrame(frame: Buffer, index: number): void {
    const writer = this.writer;
    const size = this.frameSize;
    if (!writer || !size || this.fatal) return;
    this.lastFrameAt = Date.now();
    this.deps.metrics.decodedFrame();
    const ptsMs =
      this.frameIntervalMs > 0
        ? this.sessionPtsBase + this.sessionFrames * this.frameIntervalMs
        : this.sessionPtsBase + (Date.now() - this.sessionStartedAt);
    this.sessionFrames++;
    this.lastPtsMs = ptsMs;
    let ref;
    try {
      ref = writer.write(
        {
          data: frame,
          width: size.width,
          height: size.height,
          pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
          captureTimeMs: nowMs(),
          ptsMs,
        },
        this.sessionSeqBase + index + 1,
      );
    } catch (err) {
      this.frameStoreFailed(err, writer);
      return;
    }
    if (!this.modelFrame) return this.publish(ref);
    // The two pipes are read independently: the copy may already be there, or come next.
    if (this.sessionCopies > index) this.publish({ ...ref, modelFrame: this.modelFrame });
    else this.awaitingCopy.push(ref);
  }

  /** A model-size copy from the decoder's second output: same seq (and slot) as its frame. */
  private onModelFrame(frame: Buffer, index: number): void {
    const writer = this.modelWriter;
    const modelFrame = this.modelFrame;
    if (!writer || !modelFrame || this.fatal) return;
    const seq = this.sessionSeqBase + index + 1;
    try {
      writer.write(
        {
          data: frame,
          width: modelFrame.width,
          height: modelFrame.height,
          pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
          captureTimeMs: 0,
          ptsMs: 0,
        },
        seq,
      );
    } catch (err) {
      this.frameStoreFailed(err, writer);
      return;
    }
    this.sessionCopies = index + 1;
    const ref = this.awaitingCopy[0];
    if (ref?.seq === seq) {
      this.awaitingCopy.shift();
      this.publish({ ...ref, modelFrame });
    }
  }

  /** A frame (with its copy, when made) is complete in the ring: hand it to inference. */
  private publish(ref: FrameRef): void {
    const first = this.onFirstFrame;
    this.onFirstFrame = undefined;
    first?.();
    this.pump.offer(ref);
  }

  private frameStoreFailed(err: unknown, writer: FrameStoreWriter): void {
    this.failHard(
      err instanceof FrameStoreError
        ? err
        : new FrameStoreError(`cannot write a frame: ${String(err)}`, writer.options.store, {
            cause: err,
          }),
    );
  }

  /**
   * Asks inference which letterbox the run's model takes, so the decoder can make it. Without an
   * answer (model not loaded yet, an older inference) frames go out alone and inference
   * letterboxes them; a frame already at the model's size needs no copy either.
   */
  private async learnModelInput(size: { width: number; height: number }): Promise<void> {
    if (!this.deps.settings.letterboxInDecoder) return;
    let input: ModelFrameOptions | null = null;
    try {
      input = await this.deps.detector.modelInput(this.spec.modelId);
    } catch (err) {
      this.log.info(
        { err: asSieError(err).toPayload() },
        'model input unknown; inference letterboxes the frames',
      );
    }
    if (input && input.width === size.width && input.height === size.height) input = null;
    this.modelInput = input;
  }

  /** Runs the current session until ffmpeg exits, watching for a stalled source meanwhile. */
  private async runUntilExit(): Promise<DecoderExit> {
    const decoder = this.decoder;
    if (!decoder) throw new Finish(this.stoppedOutcome());
    const stallMs = this.stallTimeoutMs();
    this.watchdogTimer = setInterval(
      () => {
        // A decoder paused by backpressure is waiting for inference, not for its source.
        if (decoder.isPaused || Date.now() - this.lastFrameAt <= stallMs) return;
        this.stalled = true;
        this.log.warn({ stallMs }, 'no frame from the source; restarting it');
        void decoder.stop();
      },
      Math.min(1000, Math.max(50, stallMs / 4)),
    );
    try {
      return await decoder.exited;
    } finally {
      clearInterval(this.watchdogTimer);
      this.watchdogTimer = undefined;
    }
  }

  private lossReason(exit: DecoderExit): string {
    if (this.stalled) return `no frame for ${this.stallTimeoutMs()} ms`;
    if (exit.code === 0) return 'the stream ended';
    const reason = exit.stderrTail
      ? ffmpegErrorReason(exit.stderrTail, this.openable ?? this.spec.source)
      : '';
    return `ffmpeg exited (${exit.signal ?? `code ${exit.code}`})${reason ? `: ${reason}` : ''}`;
  }

  private ensureWriter(width: number, height: number): void {
    const { settings } = this.deps;
    const store = storeNameForRun(this.spec.runId, this.spec.generation);
    if (!this.writer) {
      this.writer = FrameStoreWriter.create({
        dir: settings.frameStoreDir,
        access: settings.frameStoreAccess,
        store,
        runId: this.spec.runId,
        generation: this.spec.generation,
        slotCount: settings.frameStoreSlots,
        slotBytes: width * height * 3,
      });
      this.log.info(
        {
          store,
          access: this.writer.access,
          slots: settings.frameStoreSlots,
          size: `${width}x${height}`,
        },
        'frame ring created',
      );
    }
    const input = this.modelInput;
    const current = this.modelFrame;
    const same =
      input &&
      current &&
      current.width === input.width &&
      current.height === input.height &&
      current.placement === input.placement &&
      current.padValue === input.padValue;
    if (same) return;
    // The model changed (or is no longer known): the old copies are of no use.
    this.modelWriter?.close(true);
    this.modelWriter = undefined;
    this.modelFrame = undefined;
    if (!input) return;
    const modelStore = `${store}-model`;
    this.modelWriter = FrameStoreWriter.create({
      dir: settings.frameStoreDir,
      access: settings.frameStoreAccess,
      store: modelStore,
      runId: this.spec.runId,
      generation: this.spec.generation,
      slotCount: settings.frameStoreSlots,
      slotBytes: input.width * input.height * 3,
    });
    this.modelFrame = {
      store: modelStore,
      width: input.width,
      height: input.height,
      byteLength: input.width * input.height * 3,
      pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
      placement: input.placement,
      padValue: input.padValue,
    };
    this.log.info(
      { model: this.spec.modelId, input: `${input.width}x${input.height}` },
      'ffmpeg letterboxes every frame to the model input',
    );
  }

  /** An error no retry can fix: stop the source now, the lifecycle turns it into FAILED. */
  private failHard(err: SieError): void {
    if (this.fatal) return;
    this.fatal = err;
    this.pump.stop();
    void this.decoder?.stop();
  }

  private async cleanup(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    clearInterval(this.watchdogTimer);
    this.pump.stop();
    try {
      await this.decoder?.stop();
    } catch (err) {
      this.log.error({ err }, 'could not stop ffmpeg');
    }
    this.writer?.close(true);
    this.writer = undefined;
    this.modelWriter?.close(true);
    this.modelWriter = undefined;
    this.deps.metrics.remove();
  }

  private finalReport(outcome: RunOutcome): void {
    switch (outcome.kind) {
      case 'stopped':
        this.log.info({ reason: outcome.reason }, 'run stopped');
        return this.report(StageEventKind.STAGE_EVENT_KIND_STOPPED, 0);
      case 'ended':
        this.log.info({ frames: this.deps.metrics.framesIn }, 'source ended');
        return this.report(StageEventKind.STAGE_EVENT_KIND_ENDED, 0);
      case 'failed':
        this.log.error({ err: outcome.error.toPayload(), attempt: outcome.attempt }, 'run failed');
        return this.report(StageEventKind.STAGE_EVENT_KIND_FAILED, outcome.attempt, outcome.error);
    }
  }

  private beat(): void {
    const m = this.deps.metrics;
    const now = Date.now();
    const seconds = (now - this.lastBeat.at) / 1000;
    const fps = seconds > 0 ? (m.framesOut - this.lastBeat.framesOut) / seconds : 0;
    this.lastBeat = { at: now, framesOut: m.framesOut };
    this.deps.publisher.heartbeat({
      runId: this.spec.runId,
      stage: Stage.STAGE_INGEST,
      nodeId: this.deps.settings.nodeId,
      generation: this.spec.generation,
      atMs: now,
      framesIn: m.framesIn,
      framesOut: m.framesOut,
      framesDropped: m.framesDropped,
      fps: Math.round(fps * 100) / 100,
    });
  }

  private report(kind: StageEventKind, attempt: number, error?: SieError): void {
    const id = {
      runId: this.spec.runId,
      nodeId: this.deps.settings.nodeId,
      generation: this.spec.generation,
    };
    this.deps.publisher.report(stageReport(id, kind, attempt, error));
  }

  private failed(error: SieError, attempt: number): RunOutcome {
    return { kind: 'failed', error, attempt };
  }

  private stoppedOutcome(): RunOutcome {
    return { kind: 'stopped', reason: this.stopReason ?? 'stopped' };
  }

  private firstFrameTimeoutMs(): number {
    return this.stallTimeoutMs();
  }

  /** The watchdog limit: never shorter than a few frame intervals of a slow sampled source. */
  private stallTimeoutMs(): number {
    const sampled = this.spec.sampleFps > 0 ? 3000 / this.spec.sampleFps : 0;
    return Math.max(this.deps.settings.stallTimeoutMs, sampled);
  }

  private url(): string {
    return redactUrl(this.spec.source.url);
  }

  /** Waits for `ms` unless the run is stopped first (then the lifecycle ends). */
  private async sleep(ms: number): Promise<void> {
    const signal = this.abort.signal;
    const slept = await new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(false);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    if (!slept) throw new Finish(this.stoppedOutcome());
  }

  private raceAbort<T>(p: Promise<T>): Promise<T | 'aborted'> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise<T | 'aborted'>((resolve, reject) => {
      const onAbort = (): void => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}
