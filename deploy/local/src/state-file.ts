import {
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { z } from 'zod';
import type { StackEndpoints } from './endpoints.js';

export type StackStateName = 'starting' | 'ready' | 'failed' | 'stopping' | 'stopped';
export type ServiceStateName =
  'waiting' | 'starting' | 'healthy' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface ServiceStatus {
  name: string;
  state: ServiceStateName;
  pid?: number;
  restarts: number;
  /** How the last run ended, e.g. `code 1` or `signal SIGKILL`. */
  lastExit?: string;
  log: string;
}

/** The contents of `<data>/stack.json`. */
export interface StackState {
  state: StackStateName;
  /** The supervisor that wrote it. */
  pid: number;
  startedAt: string;
  updatedAt: string;
  endpoints?: StackEndpoints;
  services: ServiceStatus[];
  error?: string;
  /** The service (or `postgres` / `nats`) whose failure the error describes. */
  failedService?: string;
}

// Only what readers rely on is checked; the file is ours, but may be from an older version.
const stateSchema = z.looseObject({
  state: z.enum(['starting', 'ready', 'failed', 'stopping', 'stopped']),
  pid: z.number().int(),
  services: z.array(z.looseObject({ name: z.string(), state: z.string() })).default([]),
});

/** Writes the state atomically (temp file + rename), so a reader never sees half a file. */
export function writeState(file: string, state: StackState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, file);
}

/** The state file, or undefined when it is missing or unreadable. */
export function readState(file: string): StackState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = stateSchema.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as unknown as StackState) : undefined;
  } catch {
    return undefined;
  }
}

export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the pid file only if it does not exist, so two supervisors started at once cannot
 * both own the stack. Returns false when another file is already there.
 */
export function createPidFile(file: string, pid: number): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

export function removePidFile(file: string): void {
  rmSync(file, { force: true });
}
