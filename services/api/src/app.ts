import { resolve } from 'node:path';
import multipart from '@fastify/multipart';
import type { Bus } from '@sie/bus';
import type { Db } from '@sie/db';
import type { InferenceApi } from '@sie/models';
import type { HealthReport, Logger, Registry } from '@sie/telemetry';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { modelStoreDir, type ApiConfig } from './config.js';
import type { RouteContext } from './context.js';
import { registerDashboardRoutes } from './dashboard/routes.js';
import { clientErrorResponse, errorResponse, installErrorHandling } from './http/error-handler.js';
import { installHttpMetrics } from './http/metrics.js';
import { RouteCatalog } from './http/route.js';
import { LatestDetections } from './latest-detections.js';
import { LiveFigures } from './live-figures.js';
import { workerModelInspector, type ModelInspector } from './models/inspect.js';
import { registerModelRoutes } from './models/routes.js';
import { registerNodeRoutes } from './nodes/routes.js';
import { ModelStore } from './models/store.js';
import { buildOpenApi } from './openapi/document.js';
import { SCHEMA_NAMES } from './openapi/names.js';
import { registerOpsRoutes } from './ops/routes.js';
import { registerPipelineRoutes } from './pipelines/routes.js';
import { registerPredictRoute } from './predict/routes.js';
import { registerProbeRoute } from './probe/routes.js';
import { registerDetectionsRoute } from './routes/detections.js';
import { registerEventsRoute } from './routes/events.js';
import { registerSnapshotRoute } from './routes/snapshots.js';
import { registerRunRoutes } from './runs/routes.js';
import { registerSourceRoutes } from './sources/routes.js';

export interface ApiDeps {
  config: ApiConfig;
  db: Db;
  bus: Bus;
  inference: InferenceApi;
  logger: Logger;
  registry: Registry;
  /** Readiness checks for /healthz and /readyz (the service's own: Postgres, NATS). */
  health: () => HealthReport | Promise<HealthReport>;
  /** How uploaded models are opened; ONNX Runtime in a worker thread unless a test says else. */
  inspectModel?: ModelInspector;
}

export const API_VERSION = '0.1.0';

/**
 * The whole HTTP API as a Fastify instance, not yet listening: the service's main and the tests
 * (with `app.inject` or a real port) build it the same way.
 */
export async function buildApiApp(deps: ApiDeps): Promise<FastifyInstance> {
  const { config } = deps;
  // pino's Logger and Fastify's logger type differ only in generics; the instance is the same.
  const loggerInstance = deps.logger.child({ component: 'http' }) as unknown as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.http.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    // A URL the router cannot decode never reaches the error handler; same body all the same.
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = errorResponse(err);
      void (reply as unknown as FastifyReply).code(status).send(body);
    },
    clientErrorHandler: (err, socket) => {
      const code = (err as { code?: string }).code;
      if (code === 'ECONNRESET' || socket.destroyed) return;
      socket.end(clientErrorResponse(code));
      // A peer that keeps sending after the answer is cut off rather than read from forever.
      setTimeout(() => socket.destroy(), 2000).unref();
    },
  });
  installErrorHandling(app, config.http.bodyLimitBytes);
  installHttpMetrics(app, deps.registry);
  // Per-route limits are set where the parts are read; these only bound the parser itself.
  await app.register(multipart, { limits: { parts: 16, fieldSize: 1 << 20 } });

  const store = new ModelStore(modelStoreDir(config));
  await store.init();
  const catalog = new RouteCatalog();
  const live = new LiveFigures(config.detections.latestCacheRuns);
  live.start(deps.bus);
  app.addHook('onClose', async () => live.stop());
  const ctx: RouteContext = {
    live,
    app,
    catalog,
    config,
    db: deps.db,
    inference: deps.inference,
    store,
    inspectModel: deps.inspectModel ?? workerModelInspector(config.models.validateTimeoutMs),
  };
  registerModelRoutes(ctx);
  registerPipelineRoutes(ctx);
  registerRunRoutes(ctx);
  registerNodeRoutes(ctx, deps.bus);
  const latest = new LatestDetections(config.detections.latestCacheRuns);
  latest.start(deps.bus);
  app.addHook('onClose', async () => latest.stop());
  registerDetectionsRoute(app, catalog, {
    bus: deps.bus,
    db: deps.db,
    latest,
    maxRatePerSec: config.detections.sseMaxRatePerSec,
    defaultTenant: config.tenants.default,
  });
  registerEventsRoute(app, catalog, {
    bus: deps.bus,
    db: deps.db,
    defaultTenant: config.tenants.default,
  });
  registerSnapshotRoute(app, catalog, {
    db: deps.db,
    dir: resolve(config.snapshotDir),
    defaultTenant: config.tenants.default,
  });
  registerPredictRoute(ctx);
  registerProbeRoute(ctx);
  registerSourceRoutes(ctx);
  if (config.dashboard.enabled) registerDashboardRoutes(ctx);
  let openApi: Record<string, unknown> | undefined;
  registerOpsRoutes(app, catalog, {
    registry: deps.registry,
    health: deps.health,
    openApi: () =>
      (openApi ??= buildOpenApi(catalog, SCHEMA_NAMES, {
        title: 'sie API',
        version: API_VERSION,
        description:
          'sie, the stream inference engine: models, pipelines, runs, predict, source probing',
      })),
  });
  return app;
}

export interface ApiServer {
  app: FastifyInstance;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Builds the app and listens on `http.host:http.port` (port 0 picks a free one). */
export async function startApiServer(deps: ApiDeps): Promise<ApiServer> {
  const app = await buildApiApp(deps);
  await app.listen({ host: deps.config.http.host, port: deps.config.http.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.config.http.port;
  return { app, port, url: `http://${deps.config.http.host}:${port}`, close: () => app.close() };
}
