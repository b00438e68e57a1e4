import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { buildDecodeArgs, parseSourceUrl } from '@sie/media';
import { selfChildrenCpuSeconds } from './proc.js';

export interface ChildRun {
  wallMs: number;
  /** user + system CPU seconds of ffmpeg, all its threads. */
  cpuS: number;
}

/**
 * Runs ffmpeg to completion with stdout on /dev/null (or collected) and stdin fed from `input`.
 * Its CPU time is read as the growth of this process's reaped-children time (cutime + cstime), so
 * nothing else may be reaped meanwhile: the floor runs before any service is started.
 */
export async function runFfmpeg(
  args: readonly string[],
  options: { input?: Buffer; collect?: boolean } = {},
): Promise<ChildRun & { stdout: Buffer }> {
  const devNull = options.collect ? undefined : openSync('/dev/null', 'w');
  const cpu0 = selfChildrenCpuSeconds();
  const t0 = performance.now();
  const child = spawn('ffmpeg', args, {
    stdio: [options.input ? 'pipe' : 'ignore', devNull ?? 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  if (options.input) {
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input);
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const wallMs = performance.now() - t0;
  const cpuS = selfChildrenCpuSeconds() - cpu0;
  if (devNull !== undefined) closeSync(devNull);
  if (code !== 0) throw new Error(`ffmpeg ${args.join(' ')} exited with ${code}: ${stderr}`);
  return { wallMs, cpuS, stdout: Buffer.concat(chunks) };
}

/** ffmpeg's arguments for the first `frames` frames of `video` as ingest decodes them. */
export function decodeArgs(video: string, width: number, height: number, frames: number): string[] {
  const a = buildDecodeArgs(parseSourceUrl(video), { width, height });
  return [
    ...a.inputOptions,
    '-i',
    a.input,
    ...a.outputOptions,
    '-frames:v',
    String(frames),
    'pipe:1',
  ];
}

/** H.264 as a live output would be encoded: x264 ultrafast + zerolatency, from raw BGR24 on stdin. */
export function encodeArgs(width: number, height: number, fps: number): string[] {
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'bgr24',
    '-video_size',
    `${width}x${height}`,
    '-framerate',
    String(fps),
    '-i',
    'pipe:0',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'h264',
    'pipe:1',
  ];
}
