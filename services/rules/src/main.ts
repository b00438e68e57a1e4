#!/usr/bin/env node
import { runService, serveStagePing } from '@sie/service-kit';
import { rulesConfigSchema } from './config.js';
import { DetectionsMonitor } from './detections-monitor.js';

await runService({
  service: 'rules',
  schema: rulesConfigSchema,
  nats: true,
  async start({ config, bus, registry, setInfo }) {
    if (!bus) throw new Error('the rules service needs NATS');
    const monitor = new DetectionsMonitor(registry);
    monitor.start(bus, `rules.${config.nodeId}`);
    const ping = serveStagePing(bus, config.nodeId, 'rules', () => {
      const runIds = monitor.activeRuns();
      return { runIds, capacity: Math.max(0, config.maxRuns - runIds.length) };
    });
    setInfo(
      'todo',
      'tracker, zones/lines/dwell/occupancy/absence rules, events, overlays: rules issue',
    );
    return {
      stop() {
        ping.unsubscribe();
        monitor.stop();
        return Promise.resolve();
      },
    };
  },
});
