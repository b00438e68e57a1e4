#!/usr/bin/env node
import { runService, serveStagePing } from '@sie/service-kit';
import { renderConfigSchema } from './config.js';

await runService({
  service: 'render',
  schema: renderConfigSchema,
  nats: true,
  start({ config, bus, setInfo }) {
    if (!bus) throw new Error('the render service needs NATS');
    const ping = serveStagePing(bus, config.nodeId, 'render', () => ({
      runIds: [],
      capacity: config.maxRuns,
    }));
    setInfo('todo', 'draw overlays, encode H.264, publish RTSP, preview: render issue');
    return Promise.resolve({
      stop() {
        ping.unsubscribe();
        return Promise.resolve();
      },
    });
  },
});
