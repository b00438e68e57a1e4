#!/usr/bin/env node
import { createDb, migrate } from '@sie/db';
import { runService } from '@sie/service-kit';
import { API_ENV_ALIASES, apiConfigSchema } from './config.js';
import { startApiServer } from './server.js';

await runService({
  service: 'api',
  schema: apiConfigSchema,
  envAliases: API_ENV_ALIASES,
  nats: true,
  async start({ config, logger, bus, addCheck, setInfo }) {
    await migrate(config.databaseUrl);
    const database = createDb(config.databaseUrl);
    let dbState = 'ok';
    const probe = setInterval(() => {
      database.pool.query('select 1').then(
        () => (dbState = 'ok'),
        (err: unknown) => (dbState = `unreachable: ${String(err)}`),
      );
    }, 5000);
    addCheck('postgres', () => dbState);
    if (!bus) throw new Error('the api needs NATS');
    const server = await startApiServer(config, bus, logger);
    setInfo('http', `http://${config.http.host}:${server.port}`);
    setInfo('todo', 'models, pipelines, runs, predict, probe, OpenAPI: control-plane issue');
    return {
      async stop() {
        clearInterval(probe);
        await server.close();
        await database.close();
      },
    };
  },
});
