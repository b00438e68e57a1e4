import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@sie/telemetry';
import { RestartBackoff } from './backoff.js';
import { StackStartError } from './errors.js';
import { probe } from './health.js';
import { childEnv, type ServiceProcess } from './services.js';
import type { ServiceStatus } from './state-file.js';

/** sysexits-style code the services use for an invalid configuration (see runService). */
const CONFIG_INVALID_EXIT = 2;

export interface SupervisedProcessOptions {
  spec: ServiceProcess;
  logFile: string;
  cwd: string;
  baseEnv: NodeJS.ProcessEnv;
  logger: Logger;
  /** Called on every status change (the supervisor rewrites stack.json). */
  onChange: () => void;
  probeIntervalMs?: number;
  backoff?: RestartBackoff;
}

/**
 * One child process kept alive: started with its output appended to its log file, probed until
 * healthy, and restarted after a backoff pause whenever it exits without being asked to.
 */
export class SupervisedProcess {
  readonly status: ServiceStatus;
  private child: ChildProcess | undefined;
  private stopping = false;
  private attempt = 0;
  private everHealthy = false;
  private healthySince: number | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private failure: StackStartError | undefined;
  private readonly backoff: RestartBackoff;
  private readonly log: Logger;
  private readonly waiters = new Set<{ resolve: () => void; reject: (e: Error) => void }>();

  constructor(private readonly options: SupervisedProcessOptions) {
    this.status = { name: options.spec.name, state: 'waiting', restarts: 0, log: options.logFile };
    this.backoff = options.backoff ?? new RestartBackoff();
    // `component`, not `service`: the supervisor's own lines already carry `service`.
    this.log = options.logger.child({ component: options.spec.name });
  }

  get name(): string {
    return this.options.spec.name;
  }

  start(): void {
    if (this.stopping || this.child) return;
    this.attempt += 1;
    const { spec, logFile } = this.options;
    // A header per start makes each run's output easy to find in the appended log.
    appendFileSync(
      logFile,
      `\n--- ${new Date().toISOString()} stack: starting ${spec.name} (start ${this.attempt}) ---\n`,
    );
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        cwd: this.options.cwd,
        env: childEnv(this.options.baseEnv, spec),
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.healthySince = undefined;
    this.setState('starting', child.pid);
    this.log.info({ childPid: child.pid, start: this.attempt }, 'service started');
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
      if (ended) return;
      ended = true;
      this.onExit(child, code, signal, err);
    };
    child.once('error', (err) => onEnd(null, null, err));
    child.once('exit', (code, signal) => onEnd(code, signal));
    void this.probeUntilHealthy(child);
  }

  /** Resolves once the service answers its health check; rejects if it cannot start at all. */
  waitHealthy(signal: AbortSignal): Promise<void> {
    if (this.status.state === 'healthy') return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (e: Error) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** SIGTERM, SIGKILL after `graceMs`; no restart afterwards. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.setState('stopped');
      return;
    }
    this.setState('stopping');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timeout = sleep(graceMs, 'timeout' as const, { ref: false });
    if ((await Promise.race([exited, timeout])) === 'timeout') {
      this.log.warn({ childPid: child.pid, graceMs }, 'service did not stop in time; killing it');
      child.kill('SIGKILL');
      await exited;
    }
  }

  private async probeUntilHealthy(child: ChildProcess): Promise<void> {
    const interval = this.options.probeIntervalMs ?? 250;
    while (this.child === child && !this.stopping) {
      if (await probe(this.options.spec.health, 2000)) {
        if (this.child !== child || this.stopping) return;
        this.everHealthy = true;
        this.healthySince = Date.now();
        this.setState('healthy', child.pid);
        this.log.info({ childPid: child.pid }, 'service healthy');
        for (const w of this.waiters) w.resolve();
        this.waiters.clear();
        return;
      }
      await sleep(interval);
    }
  }

  private onExit(
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    err?: Error,
  ): void {
    if (this.child !== child) return;
    this.child = undefined;
    const how = err ? `spawn error: ${err.message}` : signal ? `signal ${signal}` : `code ${code}`;
    this.status.lastExit = how;
    if (this.stopping) {
      this.log.info({ exit: how }, 'service stopped');
      this.setState('stopped');
      return;
    }
    // An invalid configuration stays invalid however often the service restarts.
    if (!this.everHealthy && (code === CONFIG_INVALID_EXIT || err)) {
      this.failure = new StackStartError(
        this.name,
        err ? how : `exited with ${how} before becoming healthy (invalid configuration?)`,
      );
      this.log.error({ exit: how }, 'service cannot start');
      this.setState('failed');
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters.clear();
      return;
    }
    const healthyFor = this.healthySince === undefined ? 0 : Date.now() - this.healthySince;
    const delay = this.backoff.delayAfter(healthyFor);
    this.status.restarts += 1;
    this.log.warn(
      { exit: how, healthyForMs: healthyFor, restartInMs: delay },
      'service exited unexpectedly; restarting',
    );
    this.setState('restarting');
    this.restartTimer = setTimeout(() => this.start(), delay);
  }

  private setState(state: ServiceStatus['state'], pid?: number): void {
    this.status.state = state;
    if (pid === undefined) delete this.status.pid;
    else this.status.pid = pid;
    this.options.onChange();
  }
}
