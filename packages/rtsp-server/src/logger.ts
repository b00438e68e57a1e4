/**
 * The logging surface the server needs. pino's logger satisfies it as is, so services pass their
 * own; the default is silent because a library must not write to a process's stdout unasked.
 */
export interface RtspLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const noop = (): void => {};

export const silentLogger: RtspLogger = { debug: noop, info: noop, warn: noop, error: noop };
