#!/usr/bin/env node
/**
 * `pnpm stack:down`: stops the stack the pid file names — SIGTERM to its supervisor, which
 * stops the services, NATS and Postgres; after the stop timeout, SIGKILL to its process group.
 * Nothing else is touched. A missing or stale pid file means there is nothing to stop (exit 0).
 */
import { ConfigError } from '@sie/errors';
import { progress } from './cli.js';
import { repoRootFromHere, stackPaths } from './paths.js';
import {
  liveGroupMembers,
  reapGroup,
  signalGroup,
  supervisorAlive,
  waitUntil,
} from './processes.js';
import { loadStackConfig, resolveDataDir } from './stack-config.js';
import { readPidFile, readState, removePidFile, writeState } from './state-file.js';

const where = { env: process.env, repoRoot: repoRootFromHere(), cwd: process.cwd() };
let stopTimeoutMs = 30_000;
try {
  stopTimeoutMs = loadStackConfig(where).stopTimeoutMs;
} catch (err) {
  // Stopping needs only the data dir; a variable gone bad since stack-up must not prevent it.
  if (!(err instanceof ConfigError)) throw err;
  progress(`ignoring an invalid environment while stopping: ${err.message}`);
}
const paths = stackPaths(resolveDataDir(where));

/** Records the end for readers of stack.json when the supervisor could not do it itself. */
function markStopped(pid: number): void {
  const state = readState(paths.stateFile);
  if (state && state.pid === pid && state.state !== 'stopped' && state.state !== 'failed') {
    writeState(paths.stateFile, {
      ...state,
      state: 'stopped',
      updatedAt: new Date().toISOString(),
    });
  }
}

const pid = readPidFile(paths.pidFile);
if (pid === undefined) {
  progress(`nothing to stop (no ${paths.pidFile})`);
} else if (!supervisorAlive(pid)) {
  const left = await reapGroup(pid, 10_000);
  removePidFile(paths.pidFile);
  markStopped(pid);
  progress(
    left > 0
      ? `the supervisor (pid ${pid}) was gone; stopped ${left} process(es) it left behind`
      : `nothing to stop (stale pid file: pid ${pid} is not running)`,
  );
} else {
  progress(`stopping the stack (supervisor pid ${pid}, data in ${paths.dataDir})`);
  process.kill(pid, 'SIGTERM');
  if (await waitUntil(() => !supervisorAlive(pid), stopTimeoutMs)) {
    const left = await reapGroup(pid, 5000);
    if (left > 0) progress(`stopped ${left} process(es) that outlived the supervisor`);
  } else {
    progress(`the supervisor did not stop within ${stopTimeoutMs} ms; killing its process group`);
    signalGroup(pid, 'SIGKILL');
    await waitUntil(() => liveGroupMembers(pid).length === 0, 5000);
  }
  // The supervisor removes it on a clean stop; after SIGKILL it is ours to remove.
  if (readPidFile(paths.pidFile) === pid) removePidFile(paths.pidFile);
  markStopped(pid);
  progress('stopped');
}
