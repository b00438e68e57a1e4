import type { Db } from '@sie/db';
import type { InferenceApi } from '@sie/models';
import type { FastifyInstance } from 'fastify';
import type { ApiConfig } from './config.js';
import type { LiveFigures } from './live-figures.js';
import type { RouteCatalog } from './http/route.js';
import type { ModelInspector } from './models/inspect.js';
import type { ModelStore } from './models/store.js';

/** What the route modules share: the app to register on, its catalog, and the dependencies. */
export interface RouteContext {
  app: FastifyInstance;
  catalog: RouteCatalog;
  config: ApiConfig;
  db: Db;
  inference: InferenceApi;
  store: ModelStore;
  inspectModel: ModelInspector;
  /** Live figures of runs (fps, latency, drops) from heartbeats and detections. */
  live: LiveFigures;
}
