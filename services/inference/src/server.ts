import { availableParallelism } from 'node:os';
import { HealthCheckResponse_ServingStatus as Serving } from '@sie/contracts';
import type { CheckResult, Logger, Registry, Tracer } from '@sie/telemetry';
import type { InferenceConfig } from './config.js';
import { Detector } from './detect/detector.js';
import { createHealthService } from './grpc/health-service.js';
import { createInferenceService } from './grpc/inference-service.js';
import { startGrpcServer } from './grpc/server.js';
import { createInferenceMetrics } from './metrics.js';
import { ModelRegistry } from './models/registry.js';
import { WorkerPool } from './workers/pool.js';

/** The service's config without the process-level keys (logging, ops, tracing) it does not use. */
export type InferenceServerConfig = Pick<
  InferenceConfig,
  | 'grpc'
  | 'frameStoreDir'
  | 'frameStoreAccess'
  | 'workers'
  | 'batching'
  | 'executionProvider'
  | 'cpuFallback'
  | 'maxImagePixels'
  | 'models'
>;

export interface InferenceServerDeps {
  logger: Logger;
  registry: Registry;
  tracer: Tracer;
}

export interface InferenceServer {
  /** The bound gRPC port (useful with port 0). */
  port: number;
  models: ModelRegistry;
  pool: WorkerPool;
  /** Readiness for /healthz: `grpc` and `model:<id>` of each configured model. */
  checks(): Record<string, CheckResult>;
  /** Stops accepting calls, lets running ones finish (up to grpc.shutdownGraceMs), ends workers. */
  stop(): Promise<void>;
}

const JOB_TIMEOUT_MS = 30_000;
/** The gRPC service name a health check may ask about (besides '' and model ids). */
export const INFERENCE_SERVICE_NAME = 'sie.v1.Inference';

/**
 * Starts the whole inference service in this process: worker pool, gRPC server (Inference and
 * grpc.health.v1), then the configured models. A model that fails to load is reported by its
 * health check and ListModels; the service keeps serving the others.
 */
export async function startInferenceServer(
  config: InferenceServerConfig,
  deps: InferenceServerDeps,
): Promise<InferenceServer> {
  const { logger } = deps;
  const metrics = createInferenceMetrics(deps.registry);
  const pool = new WorkerPool({
    size: config.workers.count,
    queueLimit: config.workers.queueLimit,
    jobTimeoutMs: JOB_TIMEOUT_MS,
    init: {
      frameStoreDir: config.frameStoreDir,
      frameStoreAccess: config.frameStoreAccess,
      intraOpThreads: config.workers.intraOpThreads,
      executionProvider: config.executionProvider,
      cpuFallback: config.cpuFallback,
    },
    batching: config.batching,
    logger,
    onQueueDepth: (n) => metrics.queueDepth.set(n),
    onRefused: (reason) => metrics.framesDropped.inc({ reason }),
    onWorkerRestart: () => metrics.workerRestarts.inc(),
  });
  await pool.start();
  if (config.workers.count * config.workers.intraOpThreads > availableParallelism()) {
    logger.warn(
      { workers: config.workers.count, intraOpThreads: config.workers.intraOpThreads },
      'workers × intraOpThreads exceeds the cores: threads will contend for them',
    );
  }
  const models = new ModelRegistry(pool, logger);
  const detector = new Detector({
    models,
    pool,
    metrics,
    tracer: deps.tracer,
    maxImagePixels: config.maxImagePixels,
  });

  let draining = false;
  const statusOf = (service: string): Serving | undefined => {
    if (service === '' || service === INFERENCE_SERVICE_NAME) {
      return draining ? Serving.NOT_SERVING : Serving.SERVING;
    }
    const entry = models.get(service);
    if (!entry) return undefined;
    return entry.state === 'ready' && !draining ? Serving.SERVING : Serving.NOT_SERVING;
  };

  let grpc;
  try {
    grpc = await startGrpcServer({
      host: config.grpc.host,
      port: config.grpc.port,
      maxMessageBytes: config.grpc.maxMessageBytes,
      inference: createInferenceService({ detector, models, logger }),
      health: createHealthService(statusOf),
    });
  } catch (err) {
    await pool.close(0);
    throw err;
  }
  logger.info(
    { port: grpc.port, host: config.grpc.host, workers: pool.size },
    'inference gRPC listening',
  );

  // A bad model must not stop the service: its failure is visible in health and ListModels.
  await Promise.all(config.models.map((m) => models.load(m).catch(() => undefined)));

  return {
    port: grpc.port,
    models,
    pool,
    checks: () => {
      const checks: Record<string, CheckResult> = { grpc: draining ? 'shutting down' : 'ok' };
      for (const m of config.models) {
        const entry = models.get(m.id);
        checks[`model:${m.id}`] = !entry
          ? 'not loaded'
          : entry.state === 'ready'
            ? 'ok'
            : entry.state === 'loading'
              ? 'loading'
              : (entry.error?.message ?? 'failed');
      }
      return checks;
    },
    stop: async () => {
      if (draining) return;
      draining = true;
      await grpc.shutdown(config.grpc.shutdownGraceMs);
      await pool.close(config.grpc.shutdownGraceMs);
    },
  };
}
