export { FrameStoreWriter } from './writer.js';
export type { FrameStoreWriterOptions, FrameToWrite } from './writer.js';
export { FrameStoreReader } from './reader.js';
export { FrameStoreReaders } from './reader-cache.js';
export { defaultFrameStoreDir, ringPath, storeNameForRun } from './layout.js';
export { FRAME_STORE_ACCESS } from './mmap.js';
export type { FrameStoreAccess } from './mmap.js';
