/**
 * Cameras for the fault suite: one RTSP server (sie's own, in the test process) with one ffmpeg
 * publisher per path, each sending a pre-encoded H.264 file in a loop in real time without
 * re-encoding (cheap enough for several cameras on a small machine). A publisher can be stopped
 * and started again on the same URL, as a camera that loses power and comes back.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { RtspServer } from '@sie/rtsp-server';

export class CameraServer {
  private readonly publishers = new Map<string, ChildProcess>();

  private constructor(
    private readonly server: RtspServer,
    readonly port: number,
  ) {}

  static async start(): Promise<CameraServer> {
    const server = new RtspServer({ host: '127.0.0.1', port: 0 });
    return new CameraServer(server, await server.start());
  }

  url(path: string): string {
    return `rtsp://127.0.0.1:${this.port}/${path}`;
  }

  /** Starts publishing `file` (H.264) on `path`; resolves once readers can play it. */
  async publish(path: string, file: string, loop = true): Promise<string> {
    const url = this.url(path);
    const child = spawn(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-re',
        ...(loop ? ['-stream_loop', '-1'] : []),
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
    );
    this.publishers.set(path, child);
    const deadline = Date.now() + 15_000;
    while (!this.server.paths().some((p) => p.ready && p.path.replace(/^\//, '') === path)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the camera did not start publishing ${url}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return url;
  }

  /** The camera goes dark: its publisher is killed, the path disappears from the server. */
  async unpublish(path: string): Promise<void> {
    const child = this.publishers.get(path);
    this.publishers.delete(path);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.publishers.keys()].map((p) => this.unpublish(p)));
    await this.server.stop();
  }
}

/** Encodes `source` as H.264 (`width`x`height`, 10 fps, a key frame every second) into `dir`. */
export function encodeH264(
  source: string,
  dir: string,
  name: string,
  size: { width: number; height: number },
  extra: string[] = [],
): string {
  const out = join(dir, name);
  execFileSync('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-y',
    '-i',
    source,
    ...extra,
    '-an',
    '-vf',
    `scale=${size.width}:${size.height}`,
    '-r',
    '10',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '10',
    '-pix_fmt',
    'yuv420p',
    out,
  ]);
  return out;
}
