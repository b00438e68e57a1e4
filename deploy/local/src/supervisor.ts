#!/usr/bin/env node
/**
 * The long-running owner of the local stack, spawned detached by stack-up: holds `stack.pid`,
 * starts and supervises Postgres, NATS and the services (see LocalStack), and stops them all on
 * SIGTERM/SIGINT. Its stdout/stderr go to `<data>/logs/supervisor.log` (JSON lines).
 */
import { mkdirSync } from 'node:fs';
import { ConfigError } from '@sie/errors';
import { createLogger } from '@sie/telemetry';
import { LocalStack } from './local-stack.js';
import { repoRootFromHere, stackPaths } from './paths.js';
import { supervisorAlive } from './processes.js';
import { loadStackConfig, type StackConfig } from './stack-config.js';
import { createPidFile, readPidFile, removePidFile } from './state-file.js';

let config: StackConfig;
try {
  config = loadStackConfig({ env: process.env, repoRoot: repoRootFromHere(), cwd: process.cwd() });
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(2);
}
const paths = stackPaths(config.dataDir);
mkdirSync(paths.logs, { recursive: true });
const logger = createLogger({ service: 'stack-supervisor', level: config.logLevel });

/** Takes the pid file; false when a live supervisor already holds it. */
function claimPidFile(): boolean {
  for (let tries = 0; tries < 2; tries++) {
    if (createPidFile(paths.pidFile, process.pid)) return true;
    const other = readPidFile(paths.pidFile);
    if (other !== undefined && supervisorAlive(other)) return false;
    logger.warn({ stalePid: other }, 'removing stale pid file');
    removePidFile(paths.pidFile);
  }
  return false;
}

if (!claimPidFile()) {
  logger.info({ pid: readPidFile(paths.pidFile) }, 'another supervisor runs this stack; exiting');
  process.exit(0);
}

const stack = new LocalStack({ config, paths, logger, env: process.env });
let exiting = false;

function shutdown(reason: string, code: number): void {
  if (exiting) return;
  exiting = true;
  logger.info({ reason }, 'stopping the stack');
  void stack
    .stop()
    .catch((err: unknown) => logger.error({ err }, 'error while stopping'))
    .finally(() => {
      // Only our own pid file: a newer supervisor may have replaced a file we thought stale.
      if (readPidFile(paths.pidFile) === process.pid) removePidFile(paths.pidFile);
      process.exit(code);
    });
}

process.on('SIGTERM', () => shutdown('SIGTERM', 0));
process.on('SIGINT', () => shutdown('SIGINT', 0));
// Detached, it has no terminal to hang up; a stray SIGHUP must not kill the stack.
process.on('SIGHUP', () => logger.info('SIGHUP ignored'));
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception in the supervisor');
  stack.markFailed(err);
  shutdown('uncaught exception', 1);
});
process.on('unhandledRejection', (err) => {
  logger.fatal({ err }, 'unhandled rejection in the supervisor');
  stack.markFailed(err);
  shutdown('unhandled rejection', 1);
});

logger.info({ dataDir: config.dataDir, nodeId: config.nodeId }, 'starting');
try {
  await stack.start();
} catch (err) {
  if (!exiting) {
    logger.error({ err }, 'the stack could not start');
    stack.markFailed(err);
    shutdown('startup failed', 1);
  }
}
