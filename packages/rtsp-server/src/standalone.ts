import { ConfigError } from '@sie/errors';
import type { ConfigIssue } from '@sie/errors';
import { createLogger, createMetricsRegistry, startOpsServer } from '@sie/telemetry';
import type { Logger, OpsServer } from '@sie/telemetry';
import { isLogLevel } from './json-logger.js';
import { registerRtspMetrics } from './metrics.js';
import { RtspServer } from './server.js';

export interface StandaloneConfig {
  host: string;
  port: number;
  /** Port of the ops endpoint (`/healthz`, `/livez`, `/metrics`), on `host`; 0 picks one. */
  opsPort: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Limits set in the environment (see LIMIT_ENV); the server's defaults otherwise. */
  limits?: Partial<Record<LimitOption, number>>;
}

type LimitOption =
  | 'maxHeaderBytes'
  | 'maxHeaderCount'
  | 'maxBodyBytes'
  | 'requestTimeoutMs'
  | 'sessionTimeoutMs'
  | 'maxConnections'
  | 'maxSessionsPerConnection'
  | 'maxReplyBacklogBytes';

/** Environment variable → server option, for the limits that hold off hostile clients. */
export const LIMIT_ENV: Readonly<Record<string, LimitOption>> = {
  SIE_RTSP_MAX_HEADER_BYTES: 'maxHeaderBytes',
  SIE_RTSP_MAX_HEADER_COUNT: 'maxHeaderCount',
  SIE_RTSP_MAX_BODY_BYTES: 'maxBodyBytes',
  SIE_RTSP_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  SIE_RTSP_SESSION_TIMEOUT_MS: 'sessionTimeoutMs',
  SIE_RTSP_MAX_CONNECTIONS: 'maxConnections',
  SIE_RTSP_MAX_SESSIONS_PER_CONNECTION: 'maxSessionsPerConnection',
  SIE_RTSP_MAX_REPLY_BACKLOG_BYTES: 'maxReplyBacklogBytes',
};

/** A running standalone server: the RTSP server and its ops endpoint. */
export interface Standalone {
  server: RtspServer;
  ops: OpsServer;
  /** Stops both (what SIGTERM and SIGINT do). */
  stop(): Promise<void>;
}

function parsePort(env: NodeJS.ProcessEnv, name: string, fallback: string, issues: ConfigIssue[]) {
  const text = env[name] ?? fallback;
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port > 65535) {
    issues.push({ path: name, message: `not a port: ${JSON.stringify(text)}` });
  }
  return port;
}

/**
 * Reads SIE_RTSP_HOST (127.0.0.1), SIE_RTSP_PORT (8554), SIE_RTSP_OPS_PORT (9107),
 * SIE_LOG_LEVEL (info) and the limits in LIMIT_ENV (the server's defaults when unset).
 * runStandalone also labels the metrics with SIE_NODE_ID (local).
 */
export function standaloneConfigFromEnv(env: NodeJS.ProcessEnv): StandaloneConfig {
  const issues: ConfigIssue[] = [];
  const host = env['SIE_RTSP_HOST'] ?? '127.0.0.1';
  const port = parsePort(env, 'SIE_RTSP_PORT', '8554', issues);
  const opsPort = parsePort(env, 'SIE_RTSP_OPS_PORT', '9107', issues);
  const logLevel = env['SIE_LOG_LEVEL'] ?? 'info';
  if (!isLogLevel(logLevel)) {
    issues.push({ path: 'SIE_LOG_LEVEL', message: 'expected debug, info, warn or error' });
  }
  const limits: Partial<Record<LimitOption, number>> = {};
  for (const [name, option] of Object.entries(LIMIT_ENV)) {
    const text = env[name];
    if (text === undefined) continue;
    if (!/^[1-9]\d{0,12}$/.test(text)) {
      issues.push({ path: name, message: `not a positive integer: ${JSON.stringify(text)}` });
    } else {
      limits[option] = Number(text);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues, 'environment');
  return {
    host,
    port,
    opsPort,
    logLevel: logLevel as StandaloneConfig['logLevel'],
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
  };
}

/**
 * Runs a server and its ops endpoint (`/healthz`, `/metrics`) until SIGTERM or SIGINT, then stops
 * both cleanly. Resolves once both listen (tests and embedders may stop them themselves).
 */
export async function runStandalone(
  env: NodeJS.ProcessEnv = process.env,
  logger?: Logger,
): Promise<Standalone> {
  const config = standaloneConfigFromEnv(env);
  const log = logger ?? createLogger({ service: 'rtsp', level: config.logLevel });
  const server = new RtspServer({
    ...config.limits,
    host: config.host,
    port: config.port,
    logger: log,
  });
  const registry = createMetricsRegistry('rtsp', { node: env['SIE_NODE_ID'] ?? 'local' });
  registerRtspMetrics(registry, server);
  const rtspPort = await server.start();
  let ops: OpsServer;
  try {
    ops = await startOpsServer({
      service: 'rtsp',
      host: config.host,
      port: config.opsPort,
      registry,
      logger: log,
      health: () => ({
        checks: { listening: server.listening ? 'ok' : 'not listening' },
        info: { rtspPort, paths: server.paths().length },
      }),
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      await ops.close();
      await server.stop();
    })();
    return stopping;
  };
  const shutdown = (signal: string): void => {
    if (stopping) return;
    log.info({ signal }, 'shutting down');
    stop().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        log.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onTerm = (): void => shutdown('SIGTERM');
  const onInt = (): void => shutdown('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  return { server, ops, stop };
}
