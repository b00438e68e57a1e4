/**
 * Frame store access: what writing a frame into a ring and getting it back out costs with the
 * portable pread/pwrite path and with the shared mapping, per frame size the engine uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PixelFormat, type FrameRef } from '@sie/contracts';
import { FrameStoreReader, FrameStoreWriter, defaultFrameStoreDir } from '@sie/framestore';
import { fmt } from './table.js';
import { percentile } from './util.js';

export interface FrameStoreAccessCost {
  access: 'read' | 'mmap';
  frame: string;
  bytes: number;
  /** Median microseconds per frame. */
  writeUs: number;
  /** read(): the pixels copied into the caller's buffer. */
  readCopyUs: number;
  /** withFrame(): the pixels lent to a caller that only looks at them (no copy where mapped). */
  lendUs: number;
}

export interface FrameStoreBench {
  /** Where the rings lived (shared memory on Linux, as in the services). */
  dir: string;
  frames: number;
  slots: number;
  costs: FrameStoreAccessCost[];
  /** Why the mapped path was not measured, or null. */
  mmapMissing: string | null;
}

const SIZES = [
  { frame: '416×416 (model copy)', width: 416, height: 416 },
  { frame: '768×576 (vtest output)', width: 768, height: 576 },
  { frame: '1920×1080', width: 1920, height: 1080 },
];

export function measureFrameStore(frames = 400, slots = 8): FrameStoreBench {
  const base = join(defaultFrameStoreDir(), '..');
  const dir = mkdtempSync(join(base.startsWith('/dev/shm') ? '/dev/shm' : tmpdir(), 'sie-bench-'));
  const costs: FrameStoreAccessCost[] = [];
  let mmapMissing: string | null = null;
  try {
    for (const size of SIZES) {
      for (const access of ['read', 'mmap'] as const) {
        try {
          costs.push(measureOne(dir, size, access, frames, slots));
        } catch (err) {
          if (access !== 'mmap') throw err;
          mmapMissing = err instanceof Error ? err.message : String(err);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { dir, frames, slots, costs, mmapMissing };
}

function measureOne(
  dir: string,
  size: { frame: string; width: number; height: number },
  access: 'read' | 'mmap',
  frames: number,
  slots: number,
): FrameStoreAccessCost {
  const bytes = size.width * size.height * 3;
  const store = `bench-${size.width}x${size.height}-${access}`;
  const w = FrameStoreWriter.create({
    dir,
    store,
    runId: 'bench',
    slotCount: slots,
    slotBytes: bytes,
    access,
  });
  const r = FrameStoreReader.open(dir, store, access);
  // Distinct source frames, as a decoder hands over (no cache-warm repeat of one buffer).
  const sources = Array.from({ length: slots }, (_, i) => Buffer.alloc(bytes, i + 1));
  const target = Buffer.alloc(bytes);
  const write: number[] = [];
  const copy: number[] = [];
  const lend: number[] = [];
  let sink = 0;
  try {
    for (let i = 0; i < frames; i++) {
      const data = sources[i % slots] as Buffer;
      let t0 = performance.now();
      const ref: FrameRef = w.write({
        data,
        width: size.width,
        height: size.height,
        pixelFormat: PixelFormat.PIXEL_FORMAT_BGR24,
        captureTimeMs: 0,
        ptsMs: 0,
      });
      write.push(performance.now() - t0);
      t0 = performance.now();
      sink += r.read(ref, target)[bytes - 1] ?? 0;
      copy.push(performance.now() - t0);
      t0 = performance.now();
      sink += r.withFrame(ref, (px) => px[bytes >> 1] ?? 0, target);
      lend.push(performance.now() - t0);
    }
  } finally {
    w.close(true);
    r.close();
  }
  if (sink < 0) throw new Error('unreachable');
  const us = (xs: number[]): number => percentile(xs, 50) * 1000;
  return {
    access,
    frame: size.frame,
    bytes,
    writeUs: us(write),
    readCopyUs: us(copy),
    lendUs: us(lend),
  };
}

/** The frame store table's columns and rows, for the terminal and the markdown report alike. */
export const FRAME_STORE_HEADERS = [
  'frame',
  'access',
  'MB',
  'write µs',
  'read (copy) µs',
  'lend in place µs',
];

export function frameStoreRows(b: FrameStoreBench): string[][] {
  return b.costs.map((c) => [
    c.frame,
    c.access,
    fmt(c.bytes / 1e6, 2),
    fmt(c.writeUs, 0),
    fmt(c.readCopyUs, 0),
    fmt(c.lendUs, 0),
  ]);
}
