import type { ChildProcess } from 'node:child_process';
import ffmpeg from 'fluent-ffmpeg';
import { buildDecodeArgs, decodeArgv, frameBytes, type DecodeOptions } from './decode-args.js';
import { FrameSplitter, type FrameHandler } from './frame-splitter.js';
import type { ParsedSource } from './source-url.js';

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
  private readonly splitter: FrameSplitter;
  private readonly command: ffmpeg.FfmpegCommand;
  private readonly stderr: string[] = [];
  private readonly stderrLines: number;
  private readonly killGraceMs: number;
  private proc: ChildProcess | undefined;
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(options: DecoderOptions) {
    const args = buildDecodeArgs(options.source, options);
    this.argv = decodeArgv(args);
    this.frameBytes = frameBytes(options.width, options.height);
    this.stderrLines = options.stderrLines ?? 20;
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.splitter = new FrameSplitter(this.frameBytes, options.onFrame);
    const command = ffmpeg(args.input)
      .inputOptions(args.inputOptions)
      .outputOptions(args.outputOptions);
    if (options.ffmpegPath) command.setFfmpegPath(options.ffmpegPath);
    this.command = command;
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
  }

  resume(): void {
    this.splitter.resume();
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves when the process is gone. */
  stop(): Promise<DecoderExit> {
    if (!this.stopping) {
      this.stopping = true;
      // Frames still buffered are no longer wanted, and a paused splitter would hold ffmpeg.
      this.splitter.destroy();
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
      let outputDone = false;
      let spawnError: string | undefined;
      const settle = (): void => {
        if (!processExit || !outputDone) return;
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
      const outputFinished = (): void => {
        outputDone = true;
        settle();
      };
      this.splitter.once('finish', outputFinished);
      this.splitter.once('close', outputFinished);
      this.splitter.on('error', () => {
        // A throwing frame handler: stop decoding; `exited` reports the process's end.
        void this.stop();
      });

      this.command.on('stderr', (line: string) => {
        this.stderr.push(line);
        if (this.stderr.length > this.stderrLines) this.stderr.shift();
      });
      this.command.on('start', () => {
        const proc = (this.command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        this.proc = proc;
        proc?.once('exit', (code, signal) => {
          processExit = { code, signal };
          settle();
        });
        if (this.stopping) proc?.kill('SIGTERM');
      });
      // fluent-ffmpeg reports every end as 'end' or 'error' (including our own kill and the
      // output closing); the process's own exit is what counts, except when it never started.
      this.command.on('error', (err: Error) => {
        if (this.proc) return;
        spawnError = err.message;
        processExit = { code: null, signal: null };
        this.splitter.destroy();
        settle();
      });
      this.command.output(this.splitter, { end: true });
      this.command.run();
    });
  }
}

/** Starts decoding a source; see FfmpegProcess. */
export function startDecoder(options: DecoderOptions): FfmpegProcess {
  return new FfmpegProcess(options);
}
