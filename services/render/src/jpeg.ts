import { spawn } from 'node:child_process';
import { buildJpegStreamArgv } from '@sie/media';
import type { Raster } from './draw.js';

/** ffmpeg's mjpeg scale (2 best … 31 worst) of a 1-100 quality. */
export function qscaleOf(quality: number): number {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  return Math.round(2 + ((100 - q) * 29) / 99);
}

export const DEFAULT_JPEG_QUALITY = 85;

/**
 * Encodes one BGR24 raster as a JPEG with a short-lived ffmpeg (the same mjpeg encoder as the
 * preview). Snapshots and captured frames are a few per second at most, so a process per image
 * keeps the mapping from request to image trivially right.
 */
export function encodeJpeg(img: Raster, quality: number, timeoutMs = 15_000): Promise<Buffer> {
  const argv = buildJpegStreamArgv({
    width: img.width,
    height: img.height,
    fps: 1,
    quality: qscaleOf(quality),
  });
  return new Promise((resolve, reject) => {
    const proc = spawn(process.env.FFMPEG_PATH ?? 'ffmpeg', argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (c: string) => {
      if (err.length < 2000) err += c;
    });
    proc.stdin.on('error', () => undefined); // ffmpeg died first: 'close' reports it.
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 4 && jpeg[0] === 0xff && jpeg[1] === 0xd8) resolve(jpeg);
      else reject(new Error(`ffmpeg jpeg exited ${code ?? signal}: ${err.trim().slice(0, 500)}`));
    });
    proc.stdin.end(img.data);
  });
}

/** Runs at most `limit` tasks at once; more wait their turn (ffmpeg processes are not free). */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
