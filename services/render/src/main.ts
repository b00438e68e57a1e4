#!/usr/bin/env node
import { StageRunHost, runService } from '@sie/service-kit';
import { renderConfigSchema } from './config.js';

await runService({
  service: 'render',
  schema: renderConfigSchema,
  nats: true,
  start({ config, bus, logger, setInfo }) {
    if (!bus) throw new Error('the render service needs NATS');
    // Holds the node's runs for the scheduler (start/stop, heartbeats); the render issue gives
    // each held run its drawing and encoding pipeline.
    const host = new StageRunHost(
      {
        bus,
        nodeId: config.nodeId,
        stage: 'render',
        maxRuns: config.maxRuns,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        logger,
      },
      { start: () => Promise.resolve(), stop: () => Promise.resolve() },
    );
    host.start();
    setInfo('todo', 'draw overlays, encode H.264, publish RTSP, preview: render issue');
    return Promise.resolve({ stop: () => host.close() });
  },
});
