#!/usr/bin/env node
import { StageRunHost, runService } from '@sie/service-kit';
import { rulesConfigSchema } from './config.js';
import { DetectionsMonitor } from './detections-monitor.js';

await runService({
  service: 'rules',
  schema: rulesConfigSchema,
  nats: true,
  start({ config, bus, logger, registry, setInfo }) {
    if (!bus) throw new Error('the rules service needs NATS');
    const monitor = new DetectionsMonitor(registry);
    monitor.start(bus, `rules.${config.nodeId}`);
    // Holds the node's runs for the scheduler (start/stop, heartbeats); the rules issue gives
    // each held run its tracker and rule state.
    const host = new StageRunHost(
      {
        bus,
        nodeId: config.nodeId,
        stage: 'rules',
        maxRuns: config.maxRuns,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        logger,
      },
      {
        start: () => Promise.resolve(),
        stop: () => Promise.resolve(),
        counters: (runId) => ({
          framesIn: monitor.receivedFor(runId),
          framesOut: 0,
          framesDropped: 0,
        }),
      },
    );
    host.start();
    setInfo(
      'todo',
      'tracker, zones/lines/dwell/occupancy/absence rules, events, overlays: rules issue',
    );
    return Promise.resolve({
      async stop() {
        await host.close();
        monitor.stop();
      },
    });
  },
});
