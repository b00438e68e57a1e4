/**
 * RTSP around the stack: sie's RTSP server as its own process (the stack's output server, and a
 * separate one standing in for the cameras), and cameras that publish the sample video in a loop.
 *
 * A camera publishes a copy of vtest.avi encoded once to H.264 (`-c:v copy` at its own rate, as
 * test/src/support/rtsp-camera.ts does with a live encode): N cameras then cost the machine almost
 * nothing, so the CPU the bench measures is the stack's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NODE_FLAGS, findFreePort, findRepoRoot, waitForHttp } from '@sie/infra';
import { runFfmpeg } from './ffmpeg.js';
import { log, sleep } from './util.js';

export interface RtspServerProcess {
  port: number;
  opsPort: number;
  child: ChildProcess;
  url(path: string): string;
  stop(): Promise<void>;
}

export async function startRtspServerProcess(): Promise<RtspServerProcess> {
  const entry = join(findRepoRoot(), 'packages', 'rtsp-server', 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the workspace (pnpm build)`);
  const port = await findFreePort();
  const opsPort = await findFreePort();
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, entry], {
    env: {
      ...process.env,
      SIE_RTSP_PORT: String(port),
      SIE_RTSP_OPS_PORT: String(opsPort),
      SIE_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  await waitForHttp(`http://127.0.0.1:${opsPort}/healthz`, 20_000);
  return {
    port,
    opsPort,
    child,
    url: (path) => `rtsp://127.0.0.1:${port}/${path}`,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** vtest.avi as H.264 (ultrafast, a keyframe every second) in Matroska, encoded once. */
export async function h264Copy(video: string, dir: string, fps: number): Promise<string> {
  const out = join(dir, 'camera.mkv');
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  log(`cameras: encoding ${video} to H.264 once (${out})`);
  const gop = String(Math.max(1, Math.round(fps)));
  await runFfmpeg(
    [
      '-nostdin',
      '-v',
      'error',
      '-i',
      video,
      '-an',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-pix_fmt',
      'yuv420p',
      '-g',
      gop,
      '-y',
      out,
    ],
    {},
  );
  return out;
}

export interface Cameras {
  urls: string[];
  publishers: ChildProcess[];
  stop(): Promise<void>;
}

/** `count` cameras on `server`, each publishing `file` in a loop in real time over TCP. */
export async function startCameras(
  server: RtspServerProcess,
  file: string,
  count: number,
  prefix: string,
): Promise<Cameras> {
  const urls: string[] = [];
  const publishers: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const url = server.url(`${prefix}-${i + 1}`);
    urls.push(url);
    publishers.push(
      spawn(
        'ffmpeg',
        [
          '-nostdin',
          '-v',
          'error',
          '-re',
          '-stream_loop',
          '-1',
          '-i',
          file,
          '-an',
          '-c:v',
          'copy',
          '-f',
          'rtsp',
          '-rtsp_transport',
          'tcp',
          url,
        ],
        { stdio: 'ignore' },
      ),
    );
  }
  // The publishers announce within a second or two; ingest's startup retries cover a slow one.
  await sleep(1500);
  const dead = publishers.filter((p) => p.exitCode !== null);
  if (dead.length > 0) throw new Error(`${dead.length} camera publishers exited at start`);
  return {
    urls,
    publishers,
    stop: async () => {
      await Promise.all(publishers.map(stopChild));
    },
  };
}
