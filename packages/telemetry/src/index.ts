export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export {
  Counter,
  Gauge,
  Histogram,
  E2E_LATENCY_BUCKETS_MS,
  LATENCY_BUCKETS_MS,
  Registry,
  createMetricsRegistry,
  dependencyErrorCounter,
} from './metrics.js';
export type { DependencyErrorKind } from './metrics.js';
export { startOpsServer } from './ops-server.js';
export type { CheckResult, HealthReport, OpsServer, OpsServerOptions } from './ops-server.js';
export {
  SpanStatusCode,
  context,
  extractTraceContext,
  initTracing,
  injectTraceContext,
  keepSpanTrace,
  trace,
} from './tracing.js';
export { FrameSampler, KEEP_ATTRIBUTE, TailKeepProcessor } from './tail-keep.js';
export type { Context, Span, Tracer, Tracing, TracingOptions } from './tracing.js';
export { NVIDIA_SMI_ARGS, parseNvidiaSmi, startGpuMetrics } from './gpu-metrics.js';
export type { GpuMetricsOptions, GpuSample } from './gpu-metrics.js';
