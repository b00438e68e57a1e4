import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FrameRef } from '@sie/contracts';
import { FrameOverwrittenError, FrameStoreError } from '@sie/errors';
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

/** Reads frames of one ring by reference (inference, render). */
export class FrameStoreReader {
  private readonly seqBuf = Buffer.alloc(8);
  private readonly headBuf = Buffer.alloc(SLOT_HEADER_BYTES);
  /** The whole ring mapped read-only (`mmap` access), else null (pread). */
  private mapped: Buffer | null = null;

  private constructor(
    private fd: number,
    readonly store: string,
    readonly slotCount: number,
    readonly slotBytes: number,
    private readonly ino: number,
  ) {}

  static open(dir: string, store: string, access: FrameStoreAccess = 'auto'): FrameStoreReader {
    const mode = resolveAccess(access, store);
    const path = ringPath(dir, store);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (cause) {
      throw new FrameStoreError(`frame store ${store} does not exist`, store, { cause });
    }
    const head = Buffer.alloc(FILE_HEADER_BYTES);
    readSync(fd, head, 0, FILE_HEADER_BYTES, 0);
    if (head.toString('ascii', 0, 8) !== MAGIC) {
      closeSync(fd);
      throw new FrameStoreError(`${path} is not a frame store`, store);
    }
    const stat = fstatSync(fd);
    const reader = new FrameStoreReader(
      fd,
      store,
      head.readUInt32LE(8),
      head.readUInt32LE(12),
      stat.ino,
    );
    const size = slotOffset(reader.slotCount, reader.slotBytes);
    if (stat.size < size) {
      closeSync(fd);
      throw new FrameStoreError(`${path} is shorter than its ${reader.slotCount} slots`, store);
    }
    if (mode === 'mmap') {
      try {
        reader.mapped = mapRing(fd, size, false, store);
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    }
    return reader;
  }

  /** `mmap` when the ring is mapped, else `read`. */
  get access(): 'mmap' | 'read' {
    return this.mapped ? 'mmap' : 'read';
  }

  /** Inode of the open file; differs from the path's when the writer recreated the ring. */
  get inode(): number {
    return this.ino;
  }

  /**
   * Copies the referenced frame's pixels into `target` (or a new buffer) and returns them.
   * Throws FrameOverwrittenError when the slot holds another frame before or after the copy.
   */
  read(ref: FrameRef, target?: Buffer): Buffer {
    const at = this.slotOf(ref);
    const length = this.begin(ref, at);
    const out =
      target && target.byteLength >= length
        ? target.subarray(0, length)
        : Buffer.allocUnsafe(length);
    const pixels = at + SLOT_HEADER_BYTES;
    if (this.mapped) this.mapped.copy(out, 0, pixels, pixels + length);
    else readSync(this.fd, out, 0, length, pixels);
    this.end(ref, at);
    return out;
  }

  /**
   * Calls `use` with the referenced frame's pixels and returns what it returns. Mapped, `use`
   * sees the slot itself (no copy); else the pixels are read into `scratch` (or a new buffer)
   * first. Either way the slot is checked again after `use`: if the writer overwrote it
   * meanwhile, whatever `use` computed from the torn pixels is discarded and
   * FrameOverwrittenError thrown, so `use` must not publish anything itself.
   */
  withFrame<T>(ref: FrameRef, use: (pixels: Buffer) => T, scratch?: Buffer): T {
    if (!this.mapped) return use(this.read(ref, scratch));
    const at = this.slotOf(ref);
    const length = this.begin(ref, at);
    const pixels = at + SLOT_HEADER_BYTES;
    const result = use(this.mapped.subarray(pixels, pixels + length));
    this.end(ref, at);
    return result;
  }

  /** The slot's offset after checking that `ref` can name a frame of this ring. */
  private slotOf(ref: FrameRef): number {
    if (this.fd < 0) throw new FrameStoreError(`reader of ${this.store} is closed`, this.store);
    if (ref.store !== this.store) {
      throw new FrameStoreError(
        `reference is for ${ref.store}, reader is for ${this.store}`,
        this.store,
      );
    }
    if (ref.seq < 1 || slotForSeq(ref.seq, this.slotCount) !== ref.slot) {
      throw new FrameStoreError(`frame ${ref.seq} cannot live in slot ${ref.slot}`, this.store);
    }
    if (ref.byteLength > this.slotBytes) {
      throw new FrameStoreError(
        `reference claims ${ref.byteLength} bytes, slots hold ${this.slotBytes}`,
        this.store,
      );
    }
    return slotOffset(ref.slot, this.slotBytes);
  }

  /** Seqlock, first half: the slot holds `ref`'s frame; returns its pixel byte length. */
  private begin(ref: FrameRef, at: number): number {
    let before: number;
    let length: number;
    if (this.mapped) {
      before = this.mapped.readDoubleLE(at + SlotField.seq);
      length = this.mapped.readUInt32LE(at + SlotField.byteLength);
    } else {
      readSync(this.fd, this.headBuf, 0, SLOT_HEADER_BYTES, at);
      before = this.headBuf.readDoubleLE(SlotField.seq);
      length = this.headBuf.readUInt32LE(SlotField.byteLength);
    }
    if (before !== ref.seq) throw new FrameOverwrittenError(this.store, ref.seq, before);
    // A header torn by a concurrent write could claim any length; the second check catches the
    // write itself, this keeps the copy inside the slot until then.
    return Math.min(length, this.slotBytes);
  }

  /** Seqlock, second half: the slot still holds `ref`'s frame after the pixels were used. */
  private end(ref: FrameRef, at: number): void {
    let after: number;
    if (this.mapped) {
      after = this.mapped.readDoubleLE(at + SlotField.seq);
    } else {
      readSync(this.fd, this.seqBuf, 0, 8, at + SlotField.seq);
      after = this.seqBuf.readDoubleLE(0);
    }
    if (after !== ref.seq) throw new FrameOverwrittenError(this.store, ref.seq, after);
  }

  /**
   * Closes the file. A mapping is released when its Buffer is garbage collected (the native
   * module unmaps in the Buffer's finaliser); until then a deleted ring keeps its memory.
   */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.mapped = null;
  }
}
