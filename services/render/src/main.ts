#!/usr/bin/env node
import { runService } from '@sie/service-kit';
import { renderConfigSchema } from './config.js';
import { RenderService } from './service.js';

await runService({
  service: 'render',
  schema: renderConfigSchema,
  nats: true,
  async start({ config, bus, logger, registry, setInfo }) {
    if (!bus) throw new Error('the render service needs NATS');
    const service = new RenderService(config, bus, logger, registry);
    await service.start();
    setInfo('rtspPublishUrl', config.rtspPublishUrl);
    setInfo('encoder', config.encoder);
    setInfo('preview', service.previewPort ?? `off: ${service.previewError ?? 'disabled'}`);
    return { stop: () => service.close() };
  },
});
