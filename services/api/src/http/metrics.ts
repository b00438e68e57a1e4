import { Counter, Histogram, LATENCY_BUCKETS_MS, type Registry } from '@sie/telemetry';
import type { FastifyInstance } from 'fastify';

/**
 * `sie_api_requests_total{route,method,status}` and `sie_api_request_duration_ms{route,method}`.
 * The route is the pattern (`/v1/runs/:id`), never the raw URL, so ids cannot blow up the
 * label cardinality; requests that match no route count as `unmatched`.
 */
export function installHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const requests =
    (registry.getSingleMetric('sie_api_requests_total') as Counter<string> | undefined) ??
    new Counter({
      name: 'sie_api_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('sie_api_request_duration_ms') as Histogram<string> | undefined) ??
    new Histogram({
      name: 'sie_api_request_duration_ms',
      help: 'HTTP request latency until the response is sent, by route pattern and method',
      labelNames: ['route', 'method'],
      buckets: LATENCY_BUCKETS_MS,
      registers: [registry],
    });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: req.method, status: String(reply.statusCode) });
    duration.observe({ route, method: req.method }, reply.elapsedTime);
  });
}
