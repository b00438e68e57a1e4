#!/usr/bin/env node
import { runService } from '@sie/service-kit';
import { startGpuMetrics } from '@sie/telemetry';
import { inferenceConfigSchema } from './config.js';
import { startInferenceServer } from './server.js';

// The process: config (exit 2 when invalid), telemetry, /healthz and /metrics, graceful
// SIGTERM/SIGINT come from the service kit; this file only wires the inference server in.
await runService({
  service: 'inference',
  schema: inferenceConfigSchema,
  nats: 'when-tracing',
  start: async (ctx) => {
    const server = await startInferenceServer(ctx.config, {
      logger: ctx.logger,
      registry: ctx.registry,
      tracer: ctx.tracing.tracer,
    });
    for (const name of Object.keys(server.checks())) {
      ctx.addCheck(name, () => server.checks()[name] ?? 'unknown');
    }
    ctx.setInfo('grpcPort', server.port);
    ctx.setInfo('workers', server.pool.size);
    ctx.setInfo('executionProvider', ctx.config.executionProvider);
    // The GPU's utilization and memory, when there is one (one inference process per node).
    const gpu = startGpuMetrics({ registry: ctx.registry, logger: ctx.logger });
    return {
      stop: () => {
        gpu.stop();
        return server.stop();
      },
    };
  },
});
