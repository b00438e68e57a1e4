import type { HealthReport, Registry } from '@sie/telemetry';
import type { FastifyInstance } from 'fastify';
import { addRoute, type RouteCatalog } from '../http/route.js';
import { DOCS_HTML } from './docs-page.js';
import { healthJsonSchema } from './schema.js';

export interface OpsRouteDeps {
  registry: Registry;
  health: () => HealthReport | Promise<HealthReport>;
  /** Built once all routes are registered. */
  openApi: () => Record<string, unknown>;
}

/**
 * Health, metrics and the API's own description on the HTTP port (the ops port serves the same
 * health and metrics for the supervisor and Prometheus).
 */
export function registerOpsRoutes(
  app: FastifyInstance,
  catalog: RouteCatalog,
  deps: OpsRouteDeps,
): void {
  const started = Date.now();
  const health = async (): Promise<{ healthy: boolean; body: Record<string, unknown> }> => {
    const report = await deps.health();
    const healthy = Object.values(report.checks).every((c) => c === 'ok');
    return {
      healthy,
      body: {
        service: 'api',
        status: healthy ? 'ok' : 'unavailable',
        uptimeMs: Date.now() - started,
        checks: report.checks,
        ...(report.info ? { info: report.info } : {}),
      },
    };
  };
  for (const [url, operationId, summary] of [
    ['/healthz', 'health', 'Health of the service and its dependencies'],
    ['/readyz', 'ready', 'Ready to serve: every dependency ok (503 otherwise)'],
  ] as const) {
    addRoute(
      app,
      catalog,
      {
        method: 'GET',
        url,
        operationId,
        summary,
        tag: 'ops',
        responses: {
          200: { description: 'Every check ok', schema: healthJsonSchema },
          503: { description: 'A dependency is not ok', schema: healthJsonSchema },
        },
      },
      async (_req, reply) => {
        const { healthy, body } = await health();
        return reply
          .code(healthy ? 200 : 503)
          .header('cache-control', 'no-store')
          .send(body);
      },
    );
  }
  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tag: 'ops',
      responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } },
    },
    async (_req, reply) =>
      reply.type(deps.registry.contentType).send(await deps.registry.metrics()),
  );
  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      tag: 'ops',
      responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
    },
    async () => deps.openApi(),
  );
  addRoute(
    app,
    catalog,
    {
      method: 'GET',
      url: '/docs',
      operationId: 'docs',
      summary: 'A page listing every route, rendered from /openapi.json',
      tag: 'ops',
      responses: { 200: { description: 'HTML', contentType: 'text/html' } },
    },
    async (_req, reply) => reply.type('text/html; charset=utf-8').send(DOCS_HTML),
  );
}
