import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import ffmpeg from 'fluent-ffmpeg';
import { buildDecodeArgs, decodeArgv, frameBytes, type DecodeOptions } from './decode-args.js';
import { FrameSplitter, type FrameHandler } from './frame-splitter.js';
import {
  buildDualDecodeArgs,
  dualDecodeArgv,
  type LetterboxGeometry,
  type ModelFrameOptions,
} from './letterbox-args.js';
import type { ParsedSource } from './source-url.js';

/** A second output of every frame: letterboxed to a model's input by ffmpeg's filter graph. */
export interface ModelFrameOutput extends ModelFrameOptions {
  /**
   * Receives model frame `index` (the buffer is reused: copy it before returning). Model frame
   * `index` and output frame `index` are the same picture; they arrive on two pipes, in either
   * order.
   */
  onFrame: FrameHandler;
}

export interface DecoderOptions extends DecodeOptions {
  source: ParsedSource;
  /** Receives every complete frame (the buffer is reused afterwards: copy it before returning). */
  onFrame: FrameHandler;
  /** Overrides the ffmpeg binary (else FFMPEG_PATH or the PATH). */
  ffmpegPath?: string;
  /** How long `stop()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** Lines of stderr kept for error messages. */
  stderrLines?: number;
  /** Also write every frame letterboxed to this model input (fd 3 of ffmpeg). */
  modelFrame?: ModelFrameOutput;
}

export interface DecoderExit {
  /** Exit code; null when killed by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines ffmpeg wrote to stderr (its error messages, with `-loglevel error`). */
  stderrTail: string;
  framesEmitted: number;
  /** Bytes of a trailing incomplete frame (a truncated stream). */
  partialBytes: number;
  /** True when the process ended because `stop()` asked it to. */
  stopped: boolean;
  /** Set when ffmpeg could not be started at all (e.g. the binary is missing). */
  spawnError?: string;
}

/**
 * One ffmpeg process decoding one source into raw BGR24 frames of exactly width × height × 3
 * bytes. `exited` resolves once the process is gone and every frame it wrote was handed over.
 */
export class FfmpegProcess {
  readonly frameBytes: number;
  readonly argv: string[];
  readonly exited: Promise<DecoderExit>;
  /** Where ffmpeg put the picture inside each model frame (with `modelFrame`). */
  readonly modelGeometry: LetterboxGeometry | undefined;
  private readonly splitter: FrameSplitter;
  private readonly modelSplitter: FrameSplitter | undefined;
  /** fluent-ffmpeg runs the single-output decoder; it cannot open a third pipe for the dual one. */
  private readonly command: ffmpeg.FfmpegCommand | undefined;
  private readonly stderr: string[] = [];
  private readonly stderrLines: number;
  private readonly killGraceMs: number;
  private proc: ChildProcess | undefined;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DecoderOptions) {
    this.frameBytes = frameBytes(options.width, options.height);
    this.stderrLines = options.stderrLines ?? 20;
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.splitter = new FrameSplitter(this.frameBytes, options.onFrame);
    const model = options.modelFrame;
    if (model) {
      const args = buildDualDecodeArgs(options.source, options, model);
      this.argv = dualDecodeArgv(args);
      this.modelGeometry = args.geometry;
      this.modelSplitter = new FrameSplitter(frameBytes(model.width, model.height), model.onFrame);
      this.command = undefined;
    } else {
      const args = buildDecodeArgs(options.source, options);
      this.argv = decodeArgv(args);
      const command = ffmpeg(args.input)
        .inputOptions(args.inputOptions)
        .outputOptions(args.outputOptions);
      if (options.ffmpegPath) command.setFfmpegPath(options.ffmpegPath);
      this.command = command;
    }
    this.exited = this.run();
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get framesEmitted(): number {
    return this.splitter.framesEmitted;
  }

  get isPaused(): boolean {
    return this.splitter.isPaused;
  }

  /** The last lines of ffmpeg's stderr. */
  stderrTail(): string {
    return this.stderr.join('\n');
  }

  /** Stops handing out frames and, soon after, stops reading ffmpeg's output (backpressure). */
  pause(): void {
    this.splitter.pause();
    this.modelSplitter?.pause();
  }

  resume(): void {
    this.splitter.resume();
    this.modelSplitter?.resume();
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves when the process is gone. */
  stop(): Promise<DecoderExit> {
    if (!this.stopping) {
      this.stopping = true;
      // Frames still buffered are no longer wanted, and a paused splitter would hold ffmpeg.
      this.splitter.destroy();
      this.modelSplitter?.destroy();
      // Close our ends of its pipes too: an ffmpeg blocked writing a frame nobody reads would
      // not see SIGTERM until SIGKILL; a closed pipe fails that write at once.
      for (const out of this.proc?.stdio.slice(1) ?? []) out?.destroy();
      if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
        this.proc.kill('SIGTERM');
        this.killTimer = setTimeout(() => this.proc?.kill('SIGKILL'), this.killGraceMs);
        this.killTimer.unref();
      }
    }
    return this.exited;
  }

  private run(): Promise<DecoderExit> {
    return new Promise<DecoderExit>((resolve) => {
      let processExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let spawnError: string | undefined;
      const splitters = [this.splitter, this.modelSplitter].filter(
        (s): s is FrameSplitter => s !== undefined,
      );
      const finished = new Set<FrameSplitter>();
      const settle = (): void => {
        if (!processExit || finished.size < splitters.length) return;
        clearTimeout(this.killTimer);
        resolve({
          ...processExit,
          stderrTail: this.stderrTail(),
          framesEmitted: this.splitter.framesEmitted,
          partialBytes: this.splitter.partialBytes,
          stopped: this.stopping,
          ...(spawnError ? { spawnError } : {}),
        });
      };
      for (const splitter of splitters) {
        const outputFinished = (): void => {
          finished.add(splitter);
          settle();
        };
        splitter.once('finish', outputFinished);
        splitter.once('close', outputFinished);
        splitter.on('error', () => {
          // A throwing frame handler: stop decoding; `exited` reports the process's end.
          void this.stop();
        });
      }
      const started = (proc: ChildProcess | undefined): void => {
        this.proc = proc;
        proc?.once('exit', (code, signal) => {
          processExit = { code, signal };
          settle();
        });
        if (this.stopping) proc?.kill('SIGTERM');
      };
      const failedToStart = (message: string): void => {
        spawnError = message;
        processExit = { code: null, signal: null };
        for (const s of splitters) s.destroy();
        settle();
      };
      const stderrLine = (line: string): void => {
        this.stderr.push(line);
        if (this.stderr.length > this.stderrLines) this.stderr.shift();
      };
      if (this.command) this.runFluent(this.command, started, failedToStart, stderrLine);
      else this.runDual(started, failedToStart, stderrLine);
    });
  }

  private runFluent(
    command: ffmpeg.FfmpegCommand,
    started: (proc: ChildProcess | undefined) => void,
    failedToStart: (message: string) => void,
    stderrLine: (line: string) => void,
  ): void {
    command.on('stderr', stderrLine);
    command.on('start', () => {
      started((command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc);
    });
    // fluent-ffmpeg reports every end as 'end' or 'error' (including our own kill and the
    // output closing); the process's own exit is what counts, except when it never started.
    command.on('error', (err: Error) => {
      if (!this.proc) failedToStart(err.message);
    });
    command.output(this.splitter, { end: true });
    command.run();
  }

  /** Output frames on stdout, model frames on fd 3, one pipe each. */
  private runDual(
    started: (proc: ChildProcess | undefined) => void,
    failedToStart: (message: string) => void,
    stderrLine: (line: string) => void,
  ): void {
    const bin = this.options.ffmpegPath ?? process.env.FFMPEG_PATH ?? 'ffmpeg';
    const proc = spawn(bin, this.argv, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    proc.once('error', (err) => {
      if (proc.pid === undefined) failedToStart(err.message);
    });
    if (proc.pid === undefined) return;
    started(proc);
    createInterface({ input: proc.stderr as Readable }).on('line', stderrLine);
    (proc.stdout as Readable).pipe(this.splitter);
    const model = proc.stdio[3] as Readable;
    if (this.modelSplitter) model.pipe(this.modelSplitter);
  }
}

/** Starts decoding a source; see FfmpegProcess. */
export function startDecoder(options: DecoderOptions): FfmpegProcess {
  return new FfmpegProcess(options);
}
