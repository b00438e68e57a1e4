export { startPostgres } from './postgres.js';
export type { PostgresServer, StartPostgresOptions } from './postgres.js';
export { findNatsServer, startNats } from './nats.js';
export type { NatsServer, StartNatsOptions } from './nats.js';
export { findFreePort, waitForHttp, waitForTcp } from './net.js';
export type { WaitOptions } from './net.js';
export { findRepoRoot, resolveSharedAsset, sharedAssetDirs } from './assets.js';
export { AssetNotFoundError, BinaryNotFoundError, ServerStartError } from './errors.js';
