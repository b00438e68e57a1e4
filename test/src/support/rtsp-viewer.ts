import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A viewer of an RTSP stream as a player would be: ffmpeg decoding it (TCP), reconnecting at once
 * whenever the stream goes away. It records the wall-clock time of every decoded frame, so a test
 * can measure the longest gap in what a viewer saw.
 */
export class RtspViewer {
  readonly frames: number[] = [];
  private child: ChildProcess | undefined;
  private stopped = false;
  private buffer = '';

  constructor(readonly url: string) {}

  start(): this {
    this.connect();
    return this;
  }

  private connect(): void {
    if (this.stopped) return;
    const child = spawn(
      'ffmpeg',
      [
        '-nostdin',
        '-loglevel',
        'info',
        // A low-latency player: ffmpeg's default stream analysis alone holds the first frame
        // back ~3 s on a live stream.
        '-analyzeduration',
        '100000',
        '-probesize',
        '32768',
        '-rtsp_transport',
        'tcp',
        '-timeout',
        '5000000',
        '-i',
        this.url,
        '-an',
        '-vf',
        'scale=160:-2,showinfo',
        '-f',
        'null',
        '-',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.buffer += chunk;
      const lines = this.buffer.split(/\r?\n/);
      this.buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('Parsed_showinfo') && / n:\s*\d+/.test(line))
          this.frames.push(Date.now());
      }
    });
    child.once('exit', () => {
      this.child = undefined;
      if (!this.stopped) setTimeout(() => this.connect(), 50).unref();
    });
  }

  /** Frames decoded at or after `sinceMs` (wall clock). */
  framesSince(sinceMs: number): number {
    return this.frames.filter((t) => t >= sinceMs).length;
  }

  /** The longest time between two decoded frames within [fromMs, toMs]. */
  longestGapMs(fromMs: number, toMs: number): number {
    const inside = this.frames.filter((t) => t >= fromMs && t <= toMs);
    let gap = 0;
    let prev = fromMs;
    for (const t of inside) {
      gap = Math.max(gap, t - prev);
      prev = t;
    }
    return Math.max(gap, toMs - prev);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
}
