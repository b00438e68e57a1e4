import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolveSharedAsset } from '@sie/infra';

/** The shared sample clip (768x576, 10 fps); SIE_SHARED_DIR or `pnpm setup` provide it. */
export const SAMPLE_VIDEO = resolveSharedAsset('media/vtest.avi');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  proc: ChildProcess;
  done: Promise<Finished>;
  /** Lines of stderr so far. */
  stderr(): string;
  kill(signal?: NodeJS.Signals): void;
}

export function run(cmd: string, args: string[], timeoutMs: number): Running {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = new Promise<Finished>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    proc,
    done,
    stderr: () => stderr,
    kill: (signal = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** The sample video's frame rate. */
export const SAMPLE_FPS = 10;

/**
 * ffmpeg publishing the sample video in real time, re-encoded to H.264 with a keyframe every 10
 * frames; `loop` repeats the clip until killed.
 */
export function publish(
  url: string,
  transport: 'tcp' | 'udp',
  timeoutMs = 60_000,
  loop = false,
): Running {
  return run(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
      ...(loop ? ['-stream_loop', '-1'] : []),
      ...['-i', SAMPLE_VIDEO, '-an'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10'],
      ...['-f', 'rtsp', '-rtsp_transport', transport, url],
    ],
    timeoutMs,
  );
}

export interface DecodeResult extends Finished {
  /** Decoded video frames (framecrc lines). */
  frames: number;
  /** stderr lines that report decoding or transport trouble. */
  problems: string[];
}

export const PROBLEM =
  /error|corrupt|conceal|non-existing|missing|invalid|no frame|decode_slice|missed|max delay/i;

/** Reads `frames` video frames and reports how many were decoded and any decoder complaints. */
export async function decode(
  url: string,
  transport: 'tcp' | 'udp',
  frames: number,
  timeoutMs = 20_000,
): Promise<DecodeResult> {
  const r = await run(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-rtsp_transport', transport],
      ...['-i', url, '-an', '-frames:v', String(frames), '-f', 'framecrc', '-'],
    ],
    timeoutMs,
  ).done;
  const count = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const problems = r.stderr.split('\n').filter((l) => PROBLEM.test(l));
  return { ...r, frames: count, problems };
}

export interface WindowResult extends DecodeResult {
  /** Wall-clock time the reader ran, from spawn to exit. */
  wallMs: number;
}

/**
 * Reads `seconds` of stream time in real time (ffmpeg `-t` on the output) and counts the decoded
 * video frames; every frame the decoder emits is counted (no frame-rate conversion).
 */
export async function decodeFor(
  url: string,
  transport: 'tcp' | 'udp',
  seconds: number,
  timeoutMs = (seconds + 20) * 1000,
): Promise<WindowResult> {
  const started = Date.now();
  const r = await run(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-rtsp_transport', transport],
      ...['-i', url, '-an', '-t', String(seconds), '-fps_mode', 'passthrough'],
      ...['-f', 'framecrc', '-'],
    ],
    timeoutMs,
  ).done;
  const count = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const problems = r.stderr.split('\n').filter((l) => PROBLEM.test(l));
  return { ...r, frames: count, problems, wallMs: Date.now() - started };
}

export interface ProbedStream {
  codec_name?: string;
  width?: number;
  height?: number;
}

export async function probe(url: string, transport: 'tcp' | 'udp'): Promise<ProbedStream[]> {
  const r = await run(
    'ffprobe',
    [
      ...['-v', 'error', '-rtsp_transport', transport, '-show_entries'],
      ...['stream=codec_name,width,height', '-of', 'json', url],
    ],
    15_000,
  ).done;
  if (r.code !== 0) throw new Error(`ffprobe failed (${r.code}): ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as { streams?: ProbedStream[] };
  return parsed.streams ?? [];
}

/** Polls `cond` every 50 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
