#!/usr/bin/env node
import { createDb, migrate } from '@sie/db';
import { InferenceGateway } from '@sie/models';
import { runService } from '@sie/service-kit';
import { dependencyErrorCounter } from '@sie/telemetry';
import { startApiServer } from './app.js';
import { API_ENV_ALIASES, apiConfigSchema, modelStoreDir } from './config.js';

await runService({
  service: 'api',
  schema: apiConfigSchema,
  envAliases: API_ENV_ALIASES,
  nats: true,
  async start({ config, logger, bus, registry, addCheck, setInfo }) {
    if (!bus) throw new Error('the api needs NATS');
    await migrate(config.databaseUrl);
    const database = createDb(config.databaseUrl, {
      log: (line) => logger.warn(line),
      onError: dependencyErrorCounter(registry, 'db'),
    });
    let dbState = 'ok';
    const probe = setInterval(() => {
      database.pool.query('select 1').then(
        () => (dbState = 'ok'),
        (err: unknown) => (dbState = `unreachable: ${String(err)}`),
      );
    }, 5000);
    addCheck('postgres', () => dbState);
    const inference = new InferenceGateway({
      url: config.inference.url,
      detectTimeoutMs: config.inference.timeoutMs,
      loadTimeoutMs: config.inference.loadTimeoutMs,
      maxMessageBytes: config.predict.maxImageBytes + (1 << 20),
    });
    const server = await startApiServer({
      config,
      db: database.db,
      bus,
      inference,
      logger,
      registry,
      // Inference is reported, not required: everything but predict works without it.
      health: () => ({
        checks: { postgres: dbState, nats: bus.status === 'connected' ? 'ok' : bus.status },
        info: { inference: inference.health() },
      }),
    });
    setInfo('http', server.url);
    setInfo('docs', `${server.url}/docs`);
    setInfo('modelStore', modelStoreDir(config));
    return {
      async stop() {
        clearInterval(probe);
        await server.close();
        inference.close();
        await database.close();
      },
    };
  },
});
