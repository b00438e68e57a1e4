import { createRequire } from 'node:module';
import { FrameStoreError } from '@sie/errors';

/**
 * How a process reaches ring files: `read` copies with pread/pwrite (portable, one syscall per
 * piece); `mmap` maps the whole ring once and copies with memcpy, or hands readers a view of the
 * slot itself (no copy at all); `auto` maps where it is safe and falls back to `read`.
 */
export type FrameStoreAccess = 'auto' | 'mmap' | 'read';
export const FRAME_STORE_ACCESS = ['auto', 'mmap', 'read'] as const;

/** The part of the optional native module `@riaskov/mmap-io` the frame store uses. */
interface MmapIo {
  map(size: number, protection: number, flags: number, fd: number, offset?: number): Buffer;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
}

let loaded: { module: MmapIo | null; why: string } | undefined;

/**
 * The native mapping module, loaded once; null with the reason when it is not installed (it is
 * an optional dependency built from source, so a machine without a compiler simply lacks it).
 */
function mmapModule(): { module: MmapIo | null; why: string } {
  if (loaded) return loaded;
  try {
    const required = createRequire(import.meta.url)('@riaskov/mmap-io') as
      MmapIo | { default: MmapIo };
    const module = 'map' in required ? required : required.default;
    loaded = { module, why: '' };
  } catch (err) {
    loaded = { module: null, why: err instanceof Error ? err.message : String(err) };
  }
  return loaded;
}

/**
 * The seqlock (layout.ts) relies on the writer's stores becoming visible in program order: the
 * pixels before the new seq. x86-64 guarantees that for plain stores into shared memory; weaker
 * memory models (arm64) need barriers JavaScript cannot issue on a mapped Buffer, so there the
 * kernel's read/write path (which orders through the page cache) is the only safe one.
 */
function orderedStores(): boolean {
  return process.arch === 'x64';
}

/** What `access` means on this machine; `mmap` where it cannot be had is a clear error. */
export function resolveAccess(access: FrameStoreAccess, store: string): 'mmap' | 'read' {
  if (access === 'read') return 'read';
  const { module, why } = mmapModule();
  if (access === 'auto') return module && orderedStores() ? 'mmap' : 'read';
  if (!orderedStores()) {
    throw new FrameStoreError(
      `frameStoreAccess mmap needs x86-64 store ordering; this is ${process.arch} (use auto or read)`,
      store,
    );
  }
  if (!module) {
    throw new FrameStoreError(
      `frameStoreAccess mmap needs the optional module @riaskov/mmap-io, which is not installed: ${why}`,
      store,
    );
  }
  return 'mmap';
}

/** Maps `size` bytes of the open ring `fd`, shared with every other process mapping it. */
export function mapRing(fd: number, size: number, writable: boolean, store: string): Buffer {
  const { module, why } = mmapModule();
  if (!module) throw new FrameStoreError(`cannot map ${store}: ${why}`, store);
  const protection = writable ? module.PROT_READ | module.PROT_WRITE : module.PROT_READ;
  try {
    return module.map(size, protection, module.MAP_SHARED, fd, 0);
  } catch (cause) {
    throw new FrameStoreError(`cannot map ${store}: ${String(cause)}`, store, { cause });
  }
}
