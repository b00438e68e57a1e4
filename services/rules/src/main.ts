#!/usr/bin/env node
import { StageRunHost, runService } from '@sie/service-kit';
import { rulesConfigSchema } from './config.js';
import { RulesMetrics } from './metrics.js';
import { RuleRun } from './rule-run.js';
import { EVENTS_STREAM, STATE_BUCKET, ensureEventsStream, openStateBucket } from './streams.js';

await runService({
  service: 'rules',
  schema: rulesConfigSchema,
  nats: true,
  async start({ config, bus, logger, registry, setInfo }) {
    if (!bus) throw new Error('the rules service needs NATS');
    const metrics = new RulesMetrics(registry);
    await ensureEventsStream(bus, config.events, logger);
    const kv = await openStateBucket(bus, Math.round(config.stateTtlHours * 3_600_000));
    const runs = new Map<string, RuleRun>();
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
        start: async (run) => {
          const held = await RuleRun.open(run, {
            bus,
            kv,
            metrics,
            logger,
            snapshotEveryMs: config.snapshotEveryMs,
            idleSnapshotMs: config.idleSnapshotMs,
            publishTimeoutMs: config.publishTimeoutMs,
          });
          runs.set(run.runId, held);
        },
        stop: async (runId) => {
          const held = runs.get(runId);
          runs.delete(runId);
          await held?.close();
        },
        counters: (runId) => ({
          framesIn: runs.get(runId)?.framesIn ?? 0,
          framesOut: runs.get(runId)?.framesIn ?? 0,
          framesDropped: 0,
        }),
      },
    );
    host.start();
    setInfo('events', { stream: EVENTS_STREAM, stateBucket: STATE_BUCKET });
    return {
      async stop() {
        await host.close();
      },
    };
  },
});
