import { ConfigError } from '@sie/errors';
import type { ConfigIssue } from '@sie/errors';
import { createJsonLineLogger, isLogLevel } from './json-logger.js';
import type { RtspLogger } from './logger.js';
import { RtspServer } from './server.js';

export interface StandaloneConfig {
  host: string;
  port: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Reads SIE_RTSP_HOST (127.0.0.1), SIE_RTSP_PORT (8554) and SIE_LOG_LEVEL (info). */
export function standaloneConfigFromEnv(env: NodeJS.ProcessEnv): StandaloneConfig {
  const issues: ConfigIssue[] = [];
  const host = env['SIE_RTSP_HOST'] ?? '127.0.0.1';
  const portText = env['SIE_RTSP_PORT'] ?? '8554';
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) {
    issues.push({ path: 'SIE_RTSP_PORT', message: `not a port: ${JSON.stringify(portText)}` });
  }
  const logLevel = env['SIE_LOG_LEVEL'] ?? 'info';
  if (!isLogLevel(logLevel)) {
    issues.push({ path: 'SIE_LOG_LEVEL', message: 'expected debug, info, warn or error' });
  }
  if (issues.length > 0) throw new ConfigError(issues, 'environment');
  return { host, port, logLevel: logLevel as StandaloneConfig['logLevel'] };
}

/**
 * Runs a server until SIGTERM or SIGINT, then stops it cleanly. Resolves with the running server
 * (tests and embedders may stop it themselves).
 */
export async function runStandalone(
  env: NodeJS.ProcessEnv = process.env,
  logger?: RtspLogger,
): Promise<RtspServer> {
  const config = standaloneConfigFromEnv(env);
  const log = logger ?? createJsonLineLogger(config.logLevel, undefined, { name: 'rtsp-server' });
  const server = new RtspServer({ host: config.host, port: config.port, logger: log });
  await server.start();
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.stop().then(
      () => {
        process.exitCode = 0;
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
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
  return server;
}
