import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/** A registry with process CPU/memory metrics and `service` as a default label. */
export function createMetricsRegistry(
  service: string,
  labels: Record<string, string> = {},
): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, ...labels });
  collectDefaultMetrics({ register: registry, prefix: 'sie_' });
  return registry;
}

/** Latency buckets in milliseconds, from sub-millisecond reads to multi-second stalls. */
export const LATENCY_BUCKETS_MS = [
  0.5, 1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000,
];

/**
 * Buckets of a frame's end-to-end latency: 5 ms steps to 60 ms, 10 ms steps to 150 ms, then
 * coarser. Quantiles are interpolated inside a bucket, so with LATENCY_BUCKETS_MS a p99 of
 * "238 ms" only meant "somewhere in 150–250": too coarse to judge a 100 ms latency budget.
 */
export const E2E_LATENCY_BUCKETS_MS = [
  5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 175, 200,
  225, 250, 300, 400, 500, 750, 1000, 2500, 5000,
];

// Literal names: docs/metrics.md and the Grafana dashboard are checked against them.
const DEPENDENCY_ERRORS = {
  nats: {
    name: 'sie_nats_errors_total',
    help: 'NATS errors: failed handlers, requests and replies, lost connections',
  },
  db: {
    name: 'sie_db_errors_total',
    help: 'Postgres errors: failed connects and statements, dead pooled connections',
  },
} as const;

/** What went wrong talking to NATS or Postgres, as the `kind` label of the error counters. */
export type DependencyErrorKind = string;

/**
 * `sie_nats_errors_total{kind}` or `sie_db_errors_total{kind}`: one counter per dependency, the
 * same names on every service, so one alert covers them all. Returns the function to call.
 */
export function dependencyErrorCounter(
  registry: Registry,
  dependency: 'nats' | 'db',
): (kind: DependencyErrorKind) => void {
  const { name, help } = DEPENDENCY_ERRORS[dependency];
  const existing = registry.getSingleMetric(name) as Counter<'kind'> | undefined;
  const counter =
    existing ?? new Counter({ name, help, labelNames: ['kind'], registers: [registry] });
  return (kind) => counter.inc({ kind });
}
