import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { FrameRef, PixelFormat } from '@sie/contracts';
import { FrameStoreError } from '@sie/errors';
import {
  FILE_HEADER_BYTES,
  MAGIC,
  SLOT_HEADER_BYTES,
  SlotField,
  ringPath,
  slotForSeq,
  slotOffset,
} from './layout.js';
import { mapRing, resolveAccess, type FrameStoreAccess } from './mmap.js';

export interface FrameStoreWriterOptions {
  dir: string;
  store: string;
  runId: string;
  slotCount: number;
  /** Largest frame payload in bytes (e.g. width × height × 3). */
  slotBytes: number;
  /** The writing ingest's lease generation, carried by every FrameRef (default 0: unknown). */
  generation?: number;
  /** pwrite or a shared mapping (default `auto`: mapped where the platform allows). */
  access?: FrameStoreAccess;
}

export interface FrameToWrite {
  data: Uint8Array;
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  captureTimeMs: number;
  ptsMs: number;
}

/** The single writer of a run's ring (the ingest stage). */
export class FrameStoreWriter {
  private seq = 0;
  private readonly header = Buffer.alloc(SLOT_HEADER_BYTES);
  private readonly zero = Buffer.alloc(8);

  private constructor(
    private fd: number,
    readonly path: string,
    readonly options: FrameStoreWriterOptions,
    /** The whole ring mapped read-write (`mmap` access), else null (pwrite). */
    private mapped: Buffer | null,
  ) {}

  /** Creates (or replaces) the ring file: a restarted run never reads a previous run's slots. */
  static create(options: FrameStoreWriterOptions): FrameStoreWriter {
    if (options.slotCount < 2) throw new RangeError('a frame store needs at least 2 slots');
    const mode = resolveAccess(options.access ?? 'auto', options.store);
    mkdirSync(options.dir, { recursive: true });
    const path = ringPath(options.dir, options.store);
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w+', 0o600);
    const size = slotOffset(options.slotCount, options.slotBytes);
    let mapped: Buffer | null = null;
    try {
      ftruncateSync(fd, size);
      const head = Buffer.alloc(FILE_HEADER_BYTES);
      head.write(MAGIC, 0, 'ascii');
      head.writeUInt32LE(options.slotCount, 8);
      head.writeUInt32LE(options.slotBytes, 12);
      writeSync(fd, head, 0, head.length, 0);
      if (mode === 'mmap') mapped = mapRing(fd, size, true, options.store);
      // Atomic replace: a reader never opens a half-initialised ring.
      renameSync(tmp, path);
    } catch (cause) {
      closeSync(fd);
      throw new FrameStoreError(`cannot create frame store: ${String(cause)}`, options.store, {
        cause,
      });
    }
    return new FrameStoreWriter(fd, path, options, mapped);
  }

  /** `mmap` when the ring is mapped, else `read` (pwrite). */
  get access(): 'mmap' | 'read' {
    return this.mapped ? 'mmap' : 'read';
  }

  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Writes the next frame and returns its reference. `atSeq` (above the last seq) numbers it
   * explicitly: a ring of model-size copies takes the seq of the frame it copies, so the two stay
   * paired even when a decoder died between writing one and the other.
   */
  write(frame: FrameToWrite, atSeq?: number): FrameRef {
    const { slotCount, slotBytes, store, runId } = this.options;
    if (frame.data.byteLength > slotBytes) {
      throw new FrameStoreError(
        `frame of ${frame.data.byteLength} bytes exceeds the slot size ${slotBytes}`,
        store,
      );
    }
    if (atSeq !== undefined && !(Number.isSafeInteger(atSeq) && atSeq > this.seq)) {
      throw new RangeError(`seq ${atSeq} does not follow the last seq ${this.seq}`);
    }
    const seq = atSeq ?? this.seq + 1;
    this.seq = seq;
    const slot = slotForSeq(seq, slotCount);
    const at = slotOffset(slot, slotBytes);
    const h = this.header;
    h.writeDoubleLE(frame.captureTimeMs, SlotField.captureTimeMs);
    h.writeDoubleLE(frame.ptsMs, SlotField.ptsMs);
    h.writeUInt32LE(frame.width, SlotField.width);
    h.writeUInt32LE(frame.height, SlotField.height);
    h.writeUInt32LE(frame.pixelFormat, SlotField.pixelFormat);
    h.writeUInt32LE(frame.data.byteLength, SlotField.byteLength);
    h.writeDoubleLE(seq, 0);
    // Invalidate first: a reader that overlaps this write sees the seq change and drops the
    // frame. The new seq goes last, after the pixels and the header.
    const m = this.mapped;
    if (m) {
      m.set(this.zero, at + SlotField.seq);
      m.set(frame.data, at + SLOT_HEADER_BYTES);
      m.set(h.subarray(8), at + 8);
      m.set(h.subarray(0, 8), at + SlotField.seq);
    } else {
      writeSync(this.fd, this.zero, 0, 8, at + SlotField.seq);
      writeSync(this.fd, frame.data, 0, frame.data.byteLength, at + SLOT_HEADER_BYTES);
      writeSync(this.fd, h, 8, SLOT_HEADER_BYTES - 8, at + 8);
      writeSync(this.fd, h, 0, 8, at + SlotField.seq);
    }
    return {
      runId,
      seq,
      slot,
      captureTimeMs: frame.captureTimeMs,
      ptsMs: frame.ptsMs,
      width: frame.width,
      height: frame.height,
      pixelFormat: frame.pixelFormat,
      store,
      byteLength: frame.data.byteLength,
      generation: this.options.generation ?? 0,
    };
  }

  /** Closes the ring; `remove` deletes its file (the run ended). */
  close(remove = false): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.mapped = null;
    if (remove) {
      try {
        unlinkSync(this.path);
      } catch {
        // Already gone: nothing to release.
      }
    }
  }
}
