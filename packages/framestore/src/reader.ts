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

/** Reads frames of one ring by reference (inference, render). */
export class FrameStoreReader {
  private readonly seqBuf = Buffer.alloc(8);
  private readonly headBuf = Buffer.alloc(SLOT_HEADER_BYTES);

  private constructor(
    private fd: number,
    readonly store: string,
    readonly slotCount: number,
    readonly slotBytes: number,
    private readonly ino: number,
  ) {}

  static open(dir: string, store: string): FrameStoreReader {
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
    return new FrameStoreReader(
      fd,
      store,
      head.readUInt32LE(8),
      head.readUInt32LE(12),
      fstatSync(fd).ino,
    );
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
    const at = slotOffset(ref.slot, this.slotBytes);
    readSync(this.fd, this.headBuf, 0, SLOT_HEADER_BYTES, at);
    const before = this.headBuf.readDoubleLE(SlotField.seq);
    if (before !== ref.seq) throw new FrameOverwrittenError(this.store, ref.seq, before);
    const length = this.headBuf.readUInt32LE(SlotField.byteLength);
    const out =
      target && target.byteLength >= length
        ? target.subarray(0, length)
        : Buffer.allocUnsafe(length);
    readSync(this.fd, out, 0, length, at + SLOT_HEADER_BYTES);
    readSync(this.fd, this.seqBuf, 0, 8, at + SlotField.seq);
    const after = this.seqBuf.readDoubleLE(0);
    if (after !== ref.seq) throw new FrameOverwrittenError(this.store, ref.seq, after);
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
