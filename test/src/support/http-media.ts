import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { basename, join } from 'node:path';

export interface HttpMedia {
  /** `http://127.0.0.1:<port>` */
  base: string;
  port: number;
  /** Paths asked for so far (to prove a playlist's entries went to HTTP, not the disk). */
  requests: string[];
  /** Closes the server and every open stream (as a crashed or rebooting camera would). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/**
 * A web server for tests: the files of `dir` by name (with Range, as players expect of
 * progressive MP4) and `/mjpeg`, a live multipart/x-mixed-replace MJPEG stream of `video`
 * encoded by ffmpeg (`-f mpjpeg`) for each client, the way IP cameras serve MJPEG over HTTP.
 */
export async function startHttpMedia(dir: string, video: string): Promise<HttpMedia> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const encoders = new Set<ChildProcess>();
  let port = 0;
  let server: Server | undefined;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    requests.push(path);
    if (path === '/mjpeg') return mjpeg(res);
    // Only names directly inside dir: a request can never climb out of it.
    const file = join(dir, basename(path));
    if (path !== `/${basename(path)}` || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    const size = statSync(file).size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const type = file.endsWith('.m3u8')
      ? 'application/vnd.apple.mpegurl'
      : file.endsWith('.ts')
        ? 'video/mp2t'
        : 'video/mp4';
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      res.writeHead(206, {
        'content-type': type,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${size}`,
        'accept-ranges': 'bytes',
      });
      createReadStream(file, { start, end }).pipe(res);
    } else {
      res.writeHead(200, {
        'content-type': type,
        'content-length': size,
        'accept-ranges': 'bytes',
      });
      createReadStream(file).pipe(res);
    }
  };

  const mjpeg = (res: ServerResponse): void => {
    const ff = spawn(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        video,
        '-an',
        '-q:v',
        '6',
      ].concat(['-f', 'mpjpeg', 'pipe:1']),
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    encoders.add(ff);
    ff.once('exit', () => encoders.delete(ff));
    res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace;boundary=ffmpeg' });
    ff.stdout.pipe(res);
    res.once('close', () => ff.kill('SIGKILL'));
  };

  const start = async (): Promise<void> => {
    const s = createServer(handler);
    s.on('connection', (sock) => {
      sockets.add(sock);
      sock.once('close', () => sockets.delete(sock));
    });
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  await start();

  return {
    get base() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    start,
    stop: async () => {
      const s = server;
      server = undefined;
      for (const ff of encoders) ff.kill('SIGKILL');
      for (const sock of sockets) sock.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

/** Runs ffmpeg to completion (making test media); throws with its stderr when it fails. */
export function ffmpegSync(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}

/**
 * Test media in `dir`: clip.mp4 (4 s, 320×240, H.264, moov first) and an HLS VOD playlist
 * index.m3u8 with 2-second segments seg0.ts… (6 s, 640×480), all made from `video` by ffmpeg.
 */
export function makeHttpFixtures(dir: string, video: string): void {
  const h264 = ['-an', '-c:v', 'libx264', '-preset', 'ultrafast'];
  ffmpegSync([
    '-i',
    video,
    '-t',
    '4',
    '-vf',
    'scale=320:240',
    ...h264,
    '-movflags',
    '+faststart',
    `${dir}/clip.mp4`,
  ]);
  ffmpegSync([
    '-i',
    video,
    '-t',
    '6',
    '-vf',
    'scale=640:480',
    ...h264,
    '-g',
    '10',
    '-f',
    'hls',
    '-hls_time',
    '2',
    '-hls_list_size',
    '0',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    `${dir}/seg%d.ts`,
    `${dir}/index.m3u8`,
  ]);
}
