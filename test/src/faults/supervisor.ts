/**
 * A process supervisor for the fault suite, as deploy/local's does it: one child per service,
 * restarted shortly after it exits without being asked to. The suite kills children with
 * SIGKILL and measures how long the stack takes to heal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import {
  SERVICE_NODE_FLAGS,
  findFreePort,
  findRepoRoot,
  waitForHttp,
  type ServiceName,
} from '@sie/infra';

export type ProcName = ServiceName | 'rtsp';

const entryOf = (name: ProcName): string =>
  name === 'rtsp'
    ? join(findRepoRoot(), 'packages', 'rtsp-server', 'dist', 'main.js')
    : join(findRepoRoot(), 'services', name, 'dist', 'main.js');

export class Supervised {
  child: ChildProcess | undefined;
  opsPort = 0;
  /** Starts after the first one (each follows an unexpected exit). */
  restarts = 0;
  private stopping = false;
  private lines: string[] = [];
  private healthy: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: ProcName,
    private readonly env: Record<string, string>,
    private readonly restartDelayMs = 300,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines the service printed, for failure messages. */
  output(): string {
    return this.lines.slice(-40).join('\n');
  }

  /** Starts the child; resolves when its /healthz answers. */
  start(timeoutMs = 60_000): Promise<void> {
    this.healthy = this.spawnOnce(timeoutMs);
    return this.healthy;
  }

  /** Resolves once the current (or restarted) child is healthy. */
  async waitHealthy(): Promise<void> {
    for (;;) {
      const current = this.healthy;
      await current.catch(() => undefined);
      if (current === this.healthy && this.child && this.child.exitCode === null) {
        await current;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL, as a crash or the OOM killer would; the supervisor restarts it. */
  kill9(): number {
    const pid = this.child?.pid;
    if (!pid) throw new Error(`${this.name} is not running`);
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retryTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }

  private async spawnOnce(timeoutMs: number): Promise<void> {
    this.opsPort = await findFreePort();
    const ops =
      this.name === 'rtsp'
        ? { SIE_RTSP_OPS_PORT: String(this.opsPort), SIE_LOG_LEVEL: 'warn' }
        : { SIE_OPS__PORT: String(this.opsPort) };
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, entryOf(this.name)], {
      env: { ...process.env, LOG_LEVEL: 'warn', ...this.env, ...ops },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.lines.length > 400) this.lines.splice(0, this.lines.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      if (this.stopping || this.child !== child) return;
      this.lines.push(`--- supervisor: ${this.name} exited (${signal ?? code}); restarting ---`);
      this.scheduleRestart(timeoutMs);
    });
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.name} exited (${code ?? signal}) before it was healthy`)),
      ),
    );
    exited.catch(() => undefined);
    await Promise.race([
      waitForHttp(`http://127.0.0.1:${this.opsPort}/healthz`, timeoutMs),
      exited,
    ]);
  }

  private scheduleRestart(timeoutMs: number): void {
    this.retryTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      this.healthy = this.spawnOnce(timeoutMs);
      // A start that fails (its dependency still down) exits, and that exit restarts it again.
      this.healthy.catch(() => undefined);
    }, this.restartDelayMs);
  }
}
