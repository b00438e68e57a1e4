import { statSync } from 'node:fs';
import type { FrameRef } from '@sie/contracts';
import { ringPath } from './layout.js';
import type { FrameStoreAccess } from './mmap.js';
import { FrameStoreReader } from './reader.js';

/**
 * Readers for many rings, opened on first use. A ring recreated by a restarted writer (new inode)
 * is reopened, so a reader never keeps reading a deleted file.
 */
export class FrameStoreReaders {
  private readonly readers = new Map<string, FrameStoreReader>();
  /** Where `withFrame` copies pixels from rings it cannot map: grown to the largest frame, reused. */
  private scratch: Buffer = Buffer.alloc(0);

  constructor(
    readonly dir: string,
    readonly access: FrameStoreAccess = 'auto',
  ) {}

  /** Copies the referenced frame's pixels (FrameStoreReader.read). */
  read(ref: FrameRef, target?: Buffer): Buffer {
    return this.using(ref, (reader) => reader.read(ref, target));
  }

  /**
   * Lends the referenced frame's pixels to `use` (FrameStoreReader.withFrame): the slot itself
   * where mapped, else a copy in a scratch buffer reused from call to call, so `use` must not
   * keep them.
   */
  withFrame<T>(ref: FrameRef, use: (pixels: Buffer) => T): T {
    return this.using(ref, (reader) => {
      if (reader.access === 'mmap') return reader.withFrame(ref, use);
      if (this.scratch.byteLength < ref.byteLength)
        this.scratch = Buffer.allocUnsafe(ref.byteLength);
      return reader.withFrame(ref, use, this.scratch);
    });
  }

  private using<T>(ref: FrameRef, op: (reader: FrameStoreReader) => T): T {
    let reader = this.readers.get(ref.store);
    if (!reader) {
      reader = FrameStoreReader.open(this.dir, ref.store, this.access);
      this.readers.set(ref.store, reader);
    }
    try {
      return op(reader);
    } catch (err) {
      if (this.replaced(reader)) {
        reader.close();
        this.readers.delete(ref.store);
        return this.using(ref, op);
      }
      throw err;
    }
  }

  private replaced(reader: FrameStoreReader): boolean {
    try {
      return statSync(ringPath(this.dir, reader.store)).ino !== reader.inode;
    } catch {
      return false;
    }
  }

  /** Forgets a ring (its run ended). */
  release(store: string): void {
    this.readers.get(store)?.close();
    this.readers.delete(store);
  }

  closeAll(): void {
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
  }
}
