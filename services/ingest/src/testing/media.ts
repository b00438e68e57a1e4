import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSharedAsset } from '@sie/infra';

/** The sample video: 768×576, 795 frames at 10 fps (../shared, or the setup step's download). */
export const VTEST = resolveSharedAsset('media/vtest.avi');

/** A short clip of the sample video (MJPEG in AVI), so looping tests see the end quickly. */
export function makeClip(dir: string, seconds: number, name = 'clip.avi'): string {
  const out = join(dir, name);
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-i',
      VTEST,
      '-t',
      String(seconds),
      '-an',
      '-c:v',
      'mjpeg',
      '-q:v',
      '5',
      out,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg could not make a clip: ${r.stderr}`);
  return out;
}

export function makeTextFile(dir: string): string {
  const out = join(dir, 'notes.txt');
  writeFileSync(out, 'these are notes, not a video\n'.repeat(100));
  return out;
}

/** Pids of running ffmpeg processes whose command line mentions `needle`. */
export function ffmpegPidsWith(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(' ')[2];
      if (state !== 'Z' && cmd[0]?.endsWith('ffmpeg') && cmd.some((a) => a.includes(needle))) {
        pids.push(Number(entry));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
