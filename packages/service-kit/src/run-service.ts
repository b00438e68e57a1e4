import { Bus } from '@sie/bus';
import { ConfigError } from '@sie/errors';
import {
  createLogger,
  createMetricsRegistry,
  dependencyErrorCounter,
  initTracing,
  startOpsServer,
  type CheckResult,
  type Logger,
  type Registry,
  type Tracing,
} from '@sie/telemetry';
import type { z } from 'zod';
import type { BaseConfig } from './base-config.js';
import { loadServiceConfig } from './load-service-config.js';
import { shareTraceKeeps } from './trace-keep.js';

export type HealthCheck = () => CheckResult;

export interface ServiceContext<C> {
  config: C;
  logger: Logger;
  registry: Registry;
  tracing: Tracing;
  /** Connected when the service asked for NATS (`nats: true`). */
  bus: Bus | undefined;
  /** Adds a named readiness check to /healthz. */
  addCheck(name: string, check: HealthCheck): void;
  /** Adds facts to /healthz's `info`. */
  setInfo(key: string, value: unknown): void;
}

export interface RunningService {
  stop(): Promise<void>;
}

export interface ServiceDefinition<S extends z.ZodType> {
  service: string;
  schema: S;
  envAliases?: Record<string, string>;
  /**
   * `true`: connect to NATS before `start` (the config must have `nats.url`). `'when-tracing'`:
   * connect in the background only when traces are exported, for trace keeps alone (a service
   * that otherwise needs no broker must not wait for one).
   */
  nats: boolean | 'when-tracing';
  start(ctx: ServiceContext<z.output<S>>): Promise<RunningService>;
}

/**
 * The whole life of a service process: config (exit 2 when invalid), logger, metrics, tracing,
 * the ops endpoint (first, so /livez answers while dependencies are awaited), NATS, then the
 * service's own start; SIGTERM/SIGINT stop it gracefully. An entry point is one call of this.
 */
export async function runService<S extends z.ZodType>(def: ServiceDefinition<S>): Promise<void> {
  let config: z.output<S> & BaseConfig;
  try {
    config = loadServiceConfig(def.schema, def.envAliases) as z.output<S> & BaseConfig;
  } catch (err) {
    const logger = createLogger({ service: def.service });
    if (err instanceof ConfigError) {
      logger.fatal({ issues: err.issues, source: err.source }, err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({
    service: def.service,
    level: config.logLevel,
    base: { node: config.nodeId },
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });

  const registry = createMetricsRegistry(def.service, { node: config.nodeId });
  const tracing = initTracing({
    service: def.service,
    otlpEndpoint: config.tracing.otlpEndpoint,
    sampleRatio: config.tracing.sampleRatio,
  });
  const checks = new Map<string, HealthCheck>();
  const info: Record<string, unknown> = {};
  let started = false;
  checks.set('started', () => (started ? 'ok' : 'starting'));
  const ops = await startOpsServer({
    service: def.service,
    host: config.ops.host,
    port: config.ops.port,
    registry,
    logger,
    health: () => ({
      checks: Object.fromEntries([...checks].map(([name, check]) => [name, check()])),
      info,
    }),
  });

  let bus: Bus | undefined;
  if (def.nats === 'when-tracing') {
    if (config.tracing.otlpEndpoint)
      connectForTraceKeeps(config, def.service, logger, registry, tracing);
  } else if (def.nats) {
    const nats = (config as unknown as { nats: { url: string; reconnectTimeWaitMs: number } }).nats;
    checks.set('nats', () =>
      bus ? (bus.status === 'connected' ? 'ok' : bus.status) : 'connecting',
    );
    bus = await Bus.connect({
      servers: nats.url,
      name: `${def.service}@${config.nodeId}`,
      logger,
      reconnectTimeWaitMs: nats.reconnectTimeWaitMs,
      onError: dependencyErrorCounter(registry, 'nats'),
    });
    shareTraceKeeps(bus, tracing);
  }

  const running = await def.start({
    config,
    logger,
    registry,
    tracing,
    bus,
    addCheck: (name, check) => checks.set(name, check),
    setInfo: (key, value) => {
      info[key] = value;
    },
  });
  started = true;
  logger.info({ opsPort: ops.port }, `${def.service} started`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${def.service} stopping`);
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    void (async () => {
      try {
        await running.stop();
        await bus?.close();
        await tracing.shutdown();
        await ops.close();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
      logger.info(`${def.service} stopped`);
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

function connectForTraceKeeps(
  config: BaseConfig,
  service: string,
  logger: Logger,
  registry: Registry,
  tracing: Tracing,
): void {
  const nats = (config as unknown as { nats?: { url: string; reconnectTimeWaitMs: number } }).nats;
  if (!nats) return;
  Bus.connect({
    servers: nats.url,
    name: `${service}@${config.nodeId}`,
    logger,
    reconnectTimeWaitMs: nats.reconnectTimeWaitMs,
    onError: dependencyErrorCounter(registry, 'nats'),
  }).then(
    (bus) => shareTraceKeeps(bus, tracing),
    (err: unknown) => logger.warn({ err }, 'no NATS for trace keeps: only sampled frames export'),
  );
}
