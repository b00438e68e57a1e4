export { INGEST_ENV_ALIASES, ingestConfigSchema, loadIngestConfig } from './config.js';
export type { IngestConfig, RetryConfig } from './config.js';
export { GrpcDetector } from './detector.js';
export type { DetectCall, Detector, GrpcDetectorOptions } from './detector.js';
export { StaleGenerationError } from './errors.js';
export { startIngest } from './service.js';
export type { IngestOverrides } from './service.js';
export { resolveRetryPolicy, retryDelayMs } from './retry.js';
