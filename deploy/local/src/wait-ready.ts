import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StackEndpoints } from './endpoints.js';
import { probe } from './health.js';
import type { StackPaths } from './paths.js';
import { supervisorAlive } from './processes.js';
import type { StackConfig } from './stack-config.js';
import { readPidFile, readState, type ServiceStatus, type StackState } from './state-file.js';

export type WaitOutcome =
  | { ok: true; endpoints: StackEndpoints }
  | {
      ok: false;
      reason: string;
      /** The service (or postgres / nats) to blame, and its log. */
      component?: string;
      log?: string;
      supervisorRunning: boolean;
      /** Stopped on request while starting: nothing to diagnose. */
      stopped?: boolean;
    };

export interface WaitOptions {
  paths: StackPaths;
  config: StackConfig;
  deadline: number;
  /** The supervisor this command spawned, if it did. */
  spawned: ChildProcess | undefined;
  progress: (line: string) => void;
}

/**
 * Follows stack.json until the stack is ready and every health check answers, the supervisor
 * reports failure or dies, or the deadline passes. Only a state file written by the supervisor
 * that holds the pid file counts: an old file from an earlier run says nothing.
 */
export async function waitForStack(opts: WaitOptions): Promise<WaitOutcome> {
  const { paths } = opts;
  let spawnedExit: string | undefined;
  opts.spawned?.once('exit', (code, signal) => (spawnedExit = signal ?? `code ${code}`));
  const shown = new Map<string, string>();
  let last: StackState | undefined;

  while (Date.now() < opts.deadline) {
    const holder = readPidFile(paths.pidFile);
    const alive = holder !== undefined && supervisorAlive(holder);
    const state = readState(paths.stateFile);
    const ours =
      state !== undefined &&
      (state.pid === holder || (opts.spawned !== undefined && state.pid === opts.spawned.pid));
    if (ours) {
      last = state;
      if (state.state === 'failed') return failure(state, state.error ?? 'failed', alive);
      if (state.state === 'stopping' || state.state === 'stopped') {
        // Someone stopped it on purpose: no log to blame.
        return {
          ok: false,
          reason: `the stack is ${state.state} (stack:down?)`,
          supervisorRunning: false,
          stopped: true,
        };
      }
      showChanges(state, shown, opts.progress);
      if (state.state === 'ready' && alive && state.endpoints) {
        const unhealthy = await unhealthyServices(state, opts.config);
        if (unhealthy.length === 0) return { ok: true, endpoints: state.endpoints };
        showOnce(shown, 'health', `waiting for health: ${unhealthy.join(', ')}`, opts.progress);
      }
    }
    if (!alive) {
      if (opts.spawned === undefined) {
        return failure(last, 'the supervisor exited', false);
      }
      if (spawnedExit !== undefined) {
        return failure(
          last,
          `the supervisor exited (${spawnedExit}) before the stack was ready`,
          false,
        );
      }
    }
    await sleep(250);
  }
  const holder = readPidFile(paths.pidFile);
  const seconds = Math.round(opts.config.timeoutMs / 1000);
  return failure(
    last,
    `not ready after ${seconds} s (SIE_STACK_TIMEOUT_MS)`,
    holder !== undefined && supervisorAlive(holder),
  );
}

function failure(
  state: StackState | undefined,
  reason: string,
  supervisorRunning: boolean,
): WaitOutcome {
  const services = state?.services ?? [];
  const blamed =
    services.find((s) => s.name === state?.failedService) ??
    services.find((s) => s.state !== 'healthy' && s.state !== 'stopped');
  return {
    ok: false,
    reason,
    supervisorRunning,
    ...(blamed ? { component: blamed.name, log: blamed.log } : {}),
    ...(!blamed && state?.failedService ? { component: state.failedService } : {}),
  };
}

/** A second stack-up must not trust stack.json alone: services may have died since. */
async function unhealthyServices(state: StackState, config: StackConfig): Promise<string[]> {
  const checks: [string, Promise<boolean>][] = Object.entries(state.endpoints?.health ?? {}).map(
    ([name, url]) => [name, probe({ kind: 'http', url })],
  );
  if (state.services.some((s) => s.name === 'rtsp')) {
    checks.push(['rtsp', probe({ kind: 'tcp', host: '127.0.0.1', port: config.ports.rtsp })]);
  }
  const results = await Promise.all(checks.map(([, p]) => p));
  return checks.filter((_, i) => !results[i]).map(([name]) => name);
}

function describe(s: ServiceStatus): string {
  const pid = s.pid !== undefined ? ` (pid ${s.pid})` : '';
  const exit = s.state === 'restarting' && s.lastExit ? ` after exit ${s.lastExit}` : '';
  const restarts = s.restarts > 0 ? `, ${s.restarts} restart(s)` : '';
  return `${s.name}: ${s.state}${pid}${exit}${restarts}`;
}

function showChanges(
  state: StackState,
  shown: Map<string, string>,
  progress: (line: string) => void,
): void {
  for (const s of state.services) showOnce(shown, s.name, describe(s), progress);
}

function showOnce(
  shown: Map<string, string>,
  key: string,
  line: string,
  progress: (line: string) => void,
): void {
  if (shown.get(key) === line) return;
  shown.set(key, line);
  progress(line);
}
