import type { RtspLogger } from './logger.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK;
}

/**
 * A minimal JSON-lines logger for the standalone server: one object per line with pino's field
 * names (`level` as pino's number, `time`, `msg`), so the same log tooling reads both.
 */
export function createJsonLineLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => void process.stdout.write(line),
  base: Record<string, unknown> = {},
): RtspLogger {
  const min = RANK[level];
  const emit =
    (lvl: LogLevel) =>
    (obj: object, msg: string): void => {
      if (RANK[lvl] < min) return;
      let line: string;
      try {
        line = JSON.stringify({ level: RANK[lvl], time: Date.now(), ...base, ...obj, msg });
      } catch {
        // Circular or BigInt fields must not take the server down with them.
        line = JSON.stringify({ level: RANK[lvl], time: Date.now(), ...base, msg });
      }
      write(`${line}\n`);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
