import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Ring file layout (little endian):
 *   file header (64 B): magic "SIERING1", slotCount u32 @8, slotBytes u32 @12
 *   slot i at FILE_HEADER + i * (SLOT_HEADER + slotBytes):
 *     seq f64 @0 (0 while the slot is being written), captureTimeMs f64 @8, ptsMs f64 @16,
 *     width u32 @24, height u32 @28, pixelFormat u32 @32, byteLength u32 @36, then the pixels.
 * Seq doubles as a seqlock: the writer zeroes it, writes pixels and metadata, then stores the new
 * seq; a reader checks it before and after copying the pixels.
 */
export const MAGIC = 'SIERING1';
export const FILE_HEADER_BYTES = 64;
export const SLOT_HEADER_BYTES = 64;

export const SlotField = {
  seq: 0,
  captureTimeMs: 8,
  ptsMs: 16,
  width: 24,
  height: 28,
  pixelFormat: 32,
  byteLength: 36,
} as const;

export function slotOffset(slot: number, slotBytes: number): number {
  return FILE_HEADER_BYTES + slot * (SLOT_HEADER_BYTES + slotBytes);
}

export function slotForSeq(seq: number, slotCount: number): number {
  return (seq - 1) % slotCount;
}

/**
 * Name of a run's ring; run ids are validated tokens, so the name is a safe file name. A
 * generation (> 0) is part of the name: while a run moves between two nodes sharing one frame
 * store, the old and the new ingest each write (and finally remove) their own ring.
 */
export function storeNameForRun(runId: string, generation = 0): string {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(runId))
    throw new RangeError(`bad run id for a frame store: ${runId}`);
  if (!Number.isSafeInteger(generation) || generation < 0)
    throw new RangeError(`bad generation for a frame store: ${generation}`);
  return generation > 0 ? `run-${runId}-g${generation}` : `run-${runId}`;
}

export function ringPath(dir: string, store: string): string {
  if (!/^[A-Za-z0-9_-]{1,160}$/.test(store)) throw new RangeError(`bad frame store name: ${store}`);
  return join(dir, `${store}.ring`);
}

/** /dev/shm/sie where shared memory exists (Linux), else the temp directory. */
export function defaultFrameStoreDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm/sie' : join(tmpdir(), 'sie-frames');
}
