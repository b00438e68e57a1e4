#!/usr/bin/env node
import { createDb, migrate } from '@sie/db';
import { runService } from '@sie/service-kit';
import { SCHEDULER_ENV_ALIASES, schedulerConfigSchema } from './config.js';
import { RunsPoller } from './runs-poller.js';

await runService({
  service: 'scheduler',
  schema: schedulerConfigSchema,
  envAliases: SCHEDULER_ENV_ALIASES,
  nats: true,
  async start({ config, logger, registry, addCheck, setInfo }) {
    await migrate(config.databaseUrl);
    const database = createDb(config.databaseUrl);
    const poller = new RunsPoller(database.pool, config.pollIntervalMs, logger, registry);
    poller.start();
    addCheck('postgres', () => poller.state());
    setInfo(
      'todo',
      'claiming, run state machine, leases, heartbeats, retries, outbox: control-plane issue',
    );
    return {
      async stop() {
        poller.stop();
        await database.close();
      },
    };
  },
});
