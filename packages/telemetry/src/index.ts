export { createLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export {
  Counter,
  Gauge,
  Histogram,
  LATENCY_BUCKETS_MS,
  Registry,
  createMetricsRegistry,
} from './metrics.js';
export { startOpsServer } from './ops-server.js';
export type { CheckResult, HealthReport, OpsServer, OpsServerOptions } from './ops-server.js';
export { context, extractTraceContext, initTracing, injectTraceContext, trace } from './tracing.js';
export type { Context, Span, Tracer, Tracing, TracingOptions } from './tracing.js';
