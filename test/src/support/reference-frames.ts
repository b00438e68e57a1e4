import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';

/**
 * SHA-256 of every frame ffmpeg decodes from `path` as BGR24 at its own size: an independent
 * reference for the bytes the ingest stage must have put in the frame store.
 */
export function referenceFrameHashes(
  path: string,
  width: number,
  height: number,
): Promise<string[]> {
  const frameBytes = width * height * 3;
  return new Promise((resolve, reject) => {
    const ff = spawn('ffmpeg', [
      '-nostdin',
      '-v',
      'error',
      '-i',
      path,
      '-an',
      '-sn',
      '-pix_fmt',
      'bgr24',
      '-f',
      'rawvideo',
      'pipe:1',
    ]);
    const hashes: string[] = [];
    let pending = Buffer.alloc(0);
    ff.stdout.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= frameBytes) {
        hashes.push(createHash('sha256').update(pending.subarray(0, frameBytes)).digest('hex'));
        pending = pending.subarray(frameBytes);
      }
    });
    ff.on('error', reject);
    ff.on('exit', (code) =>
      code === 0 ? resolve(hashes) : reject(new Error(`ffmpeg exited ${code}`)),
    );
  });
}
