import type { Bus } from '@sie/bus';
import type { Logger } from '@sie/telemetry';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiConfig } from './config.js';
import { LatestDetections } from './latest-detections.js';
import { registerDetectionsRoute } from './routes/detections.js';

export interface ApiServer {
  app: FastifyInstance;
  port: number;
  close(): Promise<void>;
}

export async function startApiServer(
  config: ApiConfig,
  bus: Bus,
  logger: Logger,
): Promise<ApiServer> {
  // pino's Logger and Fastify's logger type differ only in generics; the instance is the same.
  const loggerInstance = logger.child({ component: 'http' }) as unknown as FastifyBaseLogger;
  const app: FastifyInstance = Fastify({ loggerInstance, bodyLimit: config.http.bodyLimitBytes });
  const latest = new LatestDetections(config.detections.latestCacheRuns);
  latest.start(bus);
  registerDetectionsRoute(app, { bus, latest, maxRatePerSec: config.detections.sseMaxRatePerSec });
  await app.listen({ host: config.http.host, port: config.http.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  return {
    app,
    port,
    close: async () => {
      latest.stop();
      await app.close();
    },
  };
}
