import { BusPublisher, type RunPublisher } from './publisher.js';
import { InternalError } from '@sie/errors';
import type { RunningService, ServiceContext } from '@sie/service-kit';
import type { IngestConfig } from './config.js';
import { serveControl } from './control.js';
import { GrpcDetector, type Detector } from './detector.js';
import { IngestRun } from './ingest-run.js';
import { IngestMetrics } from './metrics.js';
import { RunManager } from './run-manager.js';

export interface IngestOverrides {
  /** Replaces the gRPC inference client (an in-process model, a test double). */
  detector?: Detector;
  /** Replaces publishing on the bus. */
  publisher?: RunPublisher;
}

/**
 * The ingest service: per run, ffmpeg decode into the run's frame ring, Detect over gRPC, and
 * detections on `sie.det.<run>`; driven by the scheduler's control commands.
 */
export function startIngest(
  ctx: ServiceContext<IngestConfig>,
  overrides: IngestOverrides = {},
): Promise<RunningService> {
  const { config, logger, bus } = ctx;
  if (!bus) throw new InternalError('ingest needs NATS (nats: true)');
  const detector =
    overrides.detector ??
    new GrpcDetector({ url: config.inference.url, timeoutMs: config.inference.timeoutMs });
  const publisher = overrides.publisher ?? new BusPublisher(bus);
  const metrics = new IngestMetrics(ctx.registry);
  const settings = {
    nodeId: config.nodeId,
    frameStoreDir: config.frameStoreDir,
    frameStoreAccess: config.frameStoreAccess,
    frameStoreSlots: config.frameStoreSlots,
    probeTimeoutMs: config.probeTimeoutMs,
    stallTimeoutMs: config.stallTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    killGraceMs: config.killGraceMs,
    decodeThreads: config.decodeThreads,
    letterboxInDecoder: config.letterboxInDecoder,
  };
  const manager = new RunManager({
    maxRuns: config.maxRuns,
    logger,
    createRun: (spec) =>
      new IngestRun(spec, {
        settings,
        detector,
        publisher,
        metrics: metrics.forRun(spec.runId),
        tracer: ctx.tracing.tracer,
        logger,
      }),
    onChange: (runIds) => {
      metrics.activeRuns.set(runIds.length);
      ctx.setInfo('activeRuns', runIds.length);
    },
  });
  ctx.setInfo('activeRuns', 0);
  ctx.setInfo('maxRuns', config.maxRuns);
  ctx.setInfo('inference', config.inference.url);
  ctx.addCheck('inference', () => detector.health());

  const control = serveControl({
    bus,
    nodeId: config.nodeId,
    capacityFps: config.capacityFps,
    manager,
    validation: {
      mediaRoot: config.mediaRoot,
      allowDevices: config.allowDevices,
      retryDefaults: config.retry,
    },
    logger,
  });
  logger.info(
    { maxRuns: config.maxRuns, inference: config.inference.url, mediaRoot: config.mediaRoot },
    'ingest ready for runs',
  );

  return Promise.resolve({
    async stop() {
      control.close();
      await manager.stopAll('ingest shutting down');
      // Reports of the stopped runs must leave before the bus is drained.
      await bus.flush().catch(() => undefined);
      detector.close();
    },
  });
}
