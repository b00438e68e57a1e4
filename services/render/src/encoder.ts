import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '@sie/telemetry';

export type WriteResult = 'written' | 'busy' | 'down';

export interface FfmpegPipeOptions {
  argv: string[];
  /** Overrides the ffmpeg binary (else FFMPEG_PATH or `ffmpeg` on the PATH). */
  ffmpegPath?: string;
  /** Receives ffmpeg's stdout (the JPEG stream of a preview); absent ignores it. */
  onStdout?: (chunk: Buffer) => void;
  /** SIGKILL this long after stdin was closed by `stop()`. */
  killGraceMs: number;
}

/**
 * One ffmpeg process fed raw frames on stdin. A frame is written only when the previous one was
 * taken completely (otherwise `busy`), so a slow encoder never makes the service buffer frames.
 */
export class FfmpegPipe {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private readonly stderr: string[] = [];
  private alive = true;
  private stopping = false;
  /** The frame being written (see `write`). */
  private out: Buffer = Buffer.alloc(0);

  constructor(options: FfmpegPipeOptions) {
    const bin = options.ffmpegPath ?? process.env.FFMPEG_PATH ?? 'ffmpeg';
    this.proc = spawn(bin, options.argv, {
      stdio: ['pipe', options.onStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    this.proc.stdin?.on('error', () => undefined); // EPIPE when ffmpeg dies; `exited` says so.
    if (options.onStdout) this.proc.stdout?.on('data', options.onStdout);
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim().length === 0) continue;
        this.stderr.push(line.trim());
        if (this.stderr.length > 20) this.stderr.shift();
      }
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('error', () => {
        this.alive = false;
        resolve({ code: null, signal: null });
      });
      this.proc.once('exit', (code, signal) => {
        this.alive = false;
        resolve({ code, signal });
      });
    });
    this.killGraceMs = options.killGraceMs;
  }

  private readonly killGraceMs: number;

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.alive && !this.stopping;
  }

  stderrTail(): string {
    return this.stderr.join('\n');
  }

  /**
   * Hands one frame to ffmpeg. The frame is copied into the pipe's own buffer, reused for every
   * frame (no allocation per frame): the caller may change its buffer as soon as this returns.
   * That buffer is free again once the previous write completed, which is also when a frame is
   * accepted at all.
   */
  write(frame: Buffer): WriteResult {
    const stdin = this.proc.stdin;
    if (!this.running || !stdin || !stdin.writable) return 'down';
    if (stdin.writableLength > 0) return 'busy';
    if (this.out.length !== frame.length) this.out = Buffer.allocUnsafe(frame.length);
    frame.copy(this.out);
    stdin.write(this.out);
    return 'written';
  }

  /** Closes stdin (ffmpeg flushes and ends its output), SIGKILL after the grace period. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      if (this.alive) {
        this.proc.stdin?.end();
        const term = setTimeout(() => this.proc.kill('SIGTERM'), this.killGraceMs / 2);
        const kill = setTimeout(() => this.proc.kill('SIGKILL'), this.killGraceMs);
        await this.exited;
        clearTimeout(term);
        clearTimeout(kill);
      }
    }
    await this.exited;
  }
}

export interface SupervisedEncoderOptions {
  name: string;
  argv: string[];
  killGraceMs: number;
  restart: { initialMs: number; maxMs: number };
  logger: Logger;
  /** Called each time ffmpeg is started again after it died. */
  onRestart?: () => void;
  onStdout?: (chunk: Buffer) => void;
}

/**
 * An ffmpeg that is kept running: when it dies it is started again after a pause that doubles
 * (from `initialMs` to `maxMs`) while it keeps dying and resets once it has run for 10 s.
 */
export class SupervisedEncoder {
  private pipe: FfmpegPipe | undefined;
  private stopped = false;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(private readonly options: SupervisedEncoderOptions) {
    this.delayMs = options.restart.initialMs;
  }

  start(): void {
    this.spawn();
  }

  get pid(): number | undefined {
    return this.pipe?.pid;
  }

  write(frame: Buffer): WriteResult {
    return this.pipe ? this.pipe.write(frame) : 'down';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pipe?.stop();
  }

  private spawn(): void {
    if (this.stopped) return;
    const pipe = new FfmpegPipe({
      argv: this.options.argv,
      killGraceMs: this.options.killGraceMs,
      ...(this.options.onStdout ? { onStdout: this.options.onStdout } : {}),
    });
    this.pipe = pipe;
    this.startedAt = Date.now();
    void pipe.exited.then((exit) => {
      if (this.stopped || this.pipe !== pipe) return;
      if (Date.now() - this.startedAt > 10_000) this.delayMs = this.options.restart.initialMs;
      this.options.logger.warn(
        { encoder: this.options.name, ...exit, stderr: pipe.stderrTail(), retryInMs: this.delayMs },
        'ffmpeg exited; restarting it',
      );
      this.timer = setTimeout(() => {
        this.options.onRestart?.();
        this.spawn();
      }, this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, this.options.restart.maxMs);
    });
  }
}
