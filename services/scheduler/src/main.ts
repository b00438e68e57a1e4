#!/usr/bin/env node
import { createDb, migrate } from '@sie/db';
import { InferenceGateway } from '@sie/models';
import { runService } from '@sie/service-kit';
import { dependencyErrorCounter } from '@sie/telemetry';
import { SCHEDULER_ENV_ALIASES, schedulerConfigSchema } from './config.js';
import { SchedulerMetrics } from './metrics.js';
import { OutboxRelay } from './outbox-relay.js';
import { Scheduler } from './scheduler.js';

await runService({
  service: 'scheduler',
  schema: schedulerConfigSchema,
  envAliases: SCHEDULER_ENV_ALIASES,
  nats: true,
  async start({ config, bus, logger, registry, addCheck, setInfo }) {
    if (!bus) throw new Error('the scheduler needs NATS');
    await migrate(config.databaseUrl, (line) => logger.info(line));
    const database = createDb(config.databaseUrl, {
      log: (line) => logger.warn(line),
      onError: dependencyErrorCounter(registry, 'db'),
    });
    const metrics = new SchedulerMetrics(registry);
    const relay = new OutboxRelay(
      database.db,
      bus,
      {
        stream: config.outbox.stream,
        pollIntervalMs: config.outbox.pollIntervalMs,
        batchSize: config.outbox.batchSize,
        maxAgeDays: config.outbox.maxAgeDays,
        duplicateWindowMs: config.outbox.duplicateWindowMs,
      },
      logger,
      metrics,
    );
    await relay.ensureStream().catch((err: unknown) => {
      // Not fatal: the relay keeps trying, and status changes wait in the outbox meanwhile.
      logger.warn({ err }, 'could not ensure the status stream yet');
    });
    relay.start();
    const inference = config.inferenceUrl
      ? new InferenceGateway({
          url: config.inferenceUrl,
          // The scheduler never calls Detect; the deadline only has to be set.
          detectTimeoutMs: config.commandTimeoutMs,
          loadTimeoutMs: config.modelLoadTimeoutMs,
        })
      : undefined;
    if (!inference) {
      logger.info('no inferenceUrl: run models are not loaded before their start');
    }
    const scheduler = new Scheduler({
      options: config,
      db: database.db,
      bus,
      logger,
      metrics,
      models: inference,
      onTransition: () => relay.kick(),
    });
    scheduler.start();
    addCheck('postgres', () => scheduler.health());
    addCheck('outbox', () => relay.state());
    setInfo('schedulerId', config.schedulerId);
    setInfo('stages', config.stages);
    setInfo('leaseMs', config.leaseMs);
    setInfo('inference', config.inferenceUrl ?? 'unset (models are not loaded before a start)');
    logger.info(
      { schedulerId: config.schedulerId, stages: config.stages, leaseMs: config.leaseMs },
      'scheduler polling for runs',
    );
    return {
      async stop() {
        // Leases are not released: they run out, and another scheduler takes the runs over.
        await scheduler.stop();
        inference?.close();
        await relay.stop();
        await database.close();
      },
    };
  },
});
