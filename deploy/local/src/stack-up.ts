#!/usr/bin/env node
/**
 * `pnpm stack:up`: starts the local stack (or finds it running), waits until every service is
 * healthy, and prints the endpoints as one JSON object on the last stdout line. Progress and
 * failures go to stderr; exit 1 when the stack does not become ready in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { cliConfig, printResult, progress, showTail } from './cli.js';
import { stackPaths, supervisorEntry, type StackPaths } from './paths.js';
import { reapGroup, supervisorAlive } from './processes.js';
import { readPidFile, removePidFile } from './state-file.js';
import { ensureSystemPackages } from './system-packages.js';
import { waitForStack, type WaitOutcome } from './wait-ready.js';

function spawnSupervisor(paths: StackPaths): ChildProcess {
  const fd = openSync(paths.supervisorLog, 'a');
  try {
    // Detached: its own session and process group, so it outlives this command and the
    // terminal, and stack-down can signal the whole group if it must.
    const child = spawn(process.execPath, [supervisorEntry()], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: process.env,
      cwd: process.cwd(),
    });
    child.unref();
    return child;
  } finally {
    closeSync(fd);
  }
}

function reportFailure(outcome: Exclude<WaitOutcome, { ok: true }>, paths: StackPaths): void {
  progress(`the stack is not ready: ${outcome.reason}`);
  if (outcome.stopped) return;
  // A service's own log says why it failed; otherwise (Postgres, NATS, ports, the supervisor
  // itself) the supervisor's log does.
  if (outcome.component && outcome.log && outcome.log !== paths.supervisorLog) {
    showTail(outcome.component, outcome.log);
  } else {
    showTail('supervisor', paths.supervisorLog, 15);
  }
  if (outcome.supervisorRunning) {
    progress('the supervisor is still running and retrying; `pnpm stack:down` stops it');
  }
}

const config = cliConfig();
const paths = stackPaths(config.dataDir);
mkdirSync(paths.logs, { recursive: true });
const deadline = Date.now() + config.timeoutMs;

const running = readPidFile(paths.pidFile);
let spawned: ChildProcess | undefined;
if (running !== undefined && supervisorAlive(running)) {
  progress(`the stack is already running (supervisor pid ${running}); checking its health`);
} else {
  if (running !== undefined) {
    const left = await reapGroup(running, 5000);
    if (left > 0) {
      progress(`stopped ${left} leftover process(es) of a stack whose supervisor died`);
    }
    removePidFile(paths.pidFile);
  }
  const missing = ensureSystemPackages(progress);
  if (missing) {
    progress(missing);
    process.exit(1);
  }
  spawned = spawnSupervisor(paths);
  progress(`started the supervisor (pid ${spawned.pid}); data in ${paths.dataDir}`);
}

const outcome = await waitForStack({ paths, config, deadline, spawned, progress });
if (outcome.ok) {
  progress(`stack ready: api ${outcome.endpoints.api}, logs in ${outcome.endpoints.logs}`);
  printResult(outcome.endpoints);
} else {
  reportFailure(outcome, paths);
  process.exitCode = 1;
}
