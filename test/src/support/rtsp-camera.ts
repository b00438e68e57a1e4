import { spawn, type ChildProcess } from 'node:child_process';
import { RtspServer } from '@sie/rtsp-server';

export interface TestCamera {
  url: string;
  stop(): Promise<void>;
}

/**
 * A camera for tests: sie's RTSP server with ffmpeg publishing a looped video file to it in real
 * time as H.264 over TCP, exactly as an IP camera (or an NVR) would serve it.
 */
export async function startTestCamera(video: string, path = 'cam'): Promise<TestCamera> {
  const server = new RtspServer({ host: '127.0.0.1', port: 0 });
  const port = await server.start();
  const url = `rtsp://127.0.0.1:${port}/${path}`;
  const publisher: ChildProcess = spawn(
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
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '10',
      '-f',
      'rtsp',
      '-rtsp_transport',
      'tcp',
      url,
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 15_000;
  while (!server.paths().some((p) => p.ready && p.path.replace(/^\//, '') === path)) {
    if (publisher.exitCode !== null || Date.now() > deadline) {
      publisher.kill('SIGKILL');
      await server.stop();
      throw new Error(`the test camera did not start publishing ${url}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: async () => {
      const gone = new Promise((r) => publisher.once('exit', r));
      if (publisher.exitCode === null) publisher.kill('SIGTERM');
      await gone;
      await server.stop();
    },
  };
}
