import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: LevelWithSilent;
  /** Extra fields on every line (node id, …). */
  base?: Record<string, unknown>;
}

/**
 * The one logger of a service: JSON lines on stdout with `service` on every line. Stages add
 * `tenant`, `run` and `stage` with `logger.child({...})`.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: options.service, pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
