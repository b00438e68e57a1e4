import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';

/**
 * Keeps the last lines a server printed (for error messages) and forwards every complete line to
 * the caller's `log`, prefixed with the server's name.
 */
export class OutputTail {
  private lines: string[] = [];
  private partial = '';
  private watchers: { re: RegExp; resolve: () => void }[] = [];

  constructor(
    private readonly prefix: string,
    private readonly log?: (line: string) => void,
    private readonly maxLines = 40,
  ) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  private add(line: string): void {
    if (!line) return;
    this.lines.push(line);
    if (this.lines.length > this.maxLines) this.lines.shift();
    this.log?.(`${this.prefix}: ${line}`);
    this.watchers = this.watchers.filter((w) => {
      if (!w.re.test(line)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves when a line matching `re` is printed (or was printed among the kept lines). */
  waitForLine(re: RegExp): Promise<void> {
    if (this.lines.some((l) => re.test(l))) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ re, resolve }));
  }

  text(): string {
    return [...this.lines, this.partial].filter(Boolean).join('\n');
  }
}

// Servers still running when this process exits get a signal, so a test file that crashed before
// calling stop() does not leave them holding ports. `exit` handlers must be synchronous, and a
// signal is all a server needs to shut itself down.
const running = new Map<number, NodeJS.Signals>();
let exitHookInstalled = false;

export function stopOnExit(pid: number, signal: NodeJS.Signals): void {
  running.set(pid, signal);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [p, s] of running) {
      try {
        process.kill(p, s);
      } catch {
        // Already gone.
      }
    }
  });
}

export function forgetOnExit(pid: number): void {
  running.delete(pid);
}

export function childExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Signals a child and waits for it to exit, escalating to SIGKILL after `graceMs`. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (childExited(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = sleep(graceMs, 'timeout' as const, { ref: false });
  if ((await Promise.race([exited, timer])) === 'timeout' && !childExited(child)) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Whether `pid` is a live process whose command name contains `name`. A pid recorded by a server
 * killed long ago may belong to an unrelated process now (containers reuse low pids), so liveness
 * alone is not enough where /proc can tell us the command.
 */
export function processAlive(pid: number, name: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user (e.g. the postgres user).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return process.platform !== 'linux';
  try {
    // "pid (comm) S ...": a zombie (Z) has exited; where pid 1 does not reap, it stays listed.
    const text = readFileSync(stat, 'utf8');
    const open = text.indexOf('(');
    const close = text.lastIndexOf(')');
    const comm = text.slice(open + 1, close);
    const state = text.slice(close + 2, close + 3);
    return comm.includes(name) && state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** Polls until `pid` is gone (for a server this process did not spawn). */
export async function waitForPidExit(
  pid: number,
  name: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid, name)) return true;
    await sleep(100);
  }
  return !processAlive(pid, name);
}
