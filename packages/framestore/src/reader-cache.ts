import { statSync } from 'node:fs';
import type { FrameRef } from '@sie/contracts';
import { ringPath } from './layout.js';
import { FrameStoreReader } from './reader.js';

/**
 * Readers for many rings, opened on first use. A ring recreated by a restarted writer (new inode)
 * is reopened, so a reader never keeps reading a deleted file.
 */
export class FrameStoreReaders {
  private readonly readers = new Map<string, FrameStoreReader>();

  constructor(readonly dir: string) {}

  read(ref: FrameRef, target?: Buffer): Buffer {
    let reader = this.readers.get(ref.store);
    if (!reader) {
      reader = FrameStoreReader.open(this.dir, ref.store);
      this.readers.set(ref.store, reader);
    }
    try {
      return reader.read(ref, target);
    } catch (err) {
      if (this.replaced(reader)) {
        reader.close();
        this.readers.delete(ref.store);
        return this.read(ref, target);
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
