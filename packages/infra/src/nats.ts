import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServerStartError, BinaryNotFoundError } from './errors.js';
import { waitForHttp, waitForTcp } from './net.js';
import { OutputTail, childExited, forgetOnExit, stopChild, stopOnExit } from './proc.js';

export interface StartNatsOptions {
  port: number;
  /** JetStream storage directory (created if missing). */
  storeDir: string;
  /** HTTP monitoring port; when given, startup also waits for `/healthz` to answer 200. */
  monitorPort?: number;
  log?: (line: string) => void;
  /** The nats-server executable; by default found on PATH (and in /usr/sbin, where apt puts it). */
  bin?: string;
  /** How long to wait for the server to accept connections (default 15 s). */
  timeoutMs?: number;
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** `http://127.0.0.1:<monitorPort>` when a monitor port was given. */
  monitorUrl?: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 10 s); safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const INSTALL_HINT = 'apt-get install nats-server';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where nats-server is. Debian's package installs it in /usr/sbin, which is not on every user's
 * PATH, so the sbin directories are searched too.
 */
export function findNatsServer(bin = 'nats-server'): string {
  if (isAbsolute(bin) || bin.includes('/')) {
    if (executable(bin)) return bin;
    throw new BinaryNotFoundError(bin, INSTALL_HINT);
  }
  const dirs = [
    ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
  ];
  for (const dir of dirs) {
    const candidate = join(dir, bin);
    if (executable(candidate)) return candidate;
  }
  throw new BinaryNotFoundError(bin, INSTALL_HINT);
}

/** Starts nats-server with JetStream on 127.0.0.1 and resolves once it accepts connections. */
export async function startNats(opts: StartNatsOptions): Promise<NatsServer> {
  const bin = findNatsServer(opts.bin);
  mkdirSync(opts.storeDir, { recursive: true });
  const args = ['-js', '-a', HOST, '-p', String(opts.port), '-sd', opts.storeDir];
  if (opts.monitorPort !== undefined) args.push('-m', String(opts.monitorPort));
  const timeoutMs = opts.timeoutMs ?? 15_000;

  const tail = new OutputTail('nats-server', opts.log);
  opts.log?.(`nats-server: starting ${bin} ${args.join(' ')}`);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c: Buffer) => tail.push(c));
  child.stderr?.on('data', (c: Buffer) => tail.push(c));

  // `close` (not `exit`) so the stderr explaining the exit has been read when we report it.
  const exitedEarly = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(
        new ServerStartError('nats-server', `could not run ${bin}: ${err.message}`, '', {
          cause: err,
        }),
      ),
    );
    child.once('close', (code, signal) =>
      reject(
        new ServerStartError(
          'nats-server',
          `exited during startup (code ${code ?? 'null'}, signal ${signal ?? 'null'})`,
          tail.text(),
        ),
      ),
    );
  });
  // Once started, an exit is the normal end of the server, not an error anyone awaits.
  exitedEarly.catch(() => undefined);

  const monitorUrl =
    opts.monitorPort !== undefined ? `http://${HOST}:${opts.monitorPort}` : undefined;
  const abort = new AbortController();
  try {
    await Promise.race([
      (async () => {
        await waitForTcp(HOST, opts.port, timeoutMs, { signal: abort.signal });
        // Something else may own the port: our server would then exit on its failed bind. Its
        // "ready" line settles that; the grace only matters if a future version rewords it.
        await Promise.race([
          tail.waitForLine(/Server is ready/),
          sleep(2000, undefined, { signal: abort.signal }),
        ]);
        if (monitorUrl)
          await waitForHttp(`${monitorUrl}/healthz`, timeoutMs, { signal: abort.signal });
      })(),
      exitedEarly,
    ]);
  } catch (err) {
    await stopChild(child, 'SIGKILL', 1000);
    if (err instanceof ServerStartError) throw err;
    throw new ServerStartError('nats-server', (err as Error).message, tail.text(), { cause: err });
  } finally {
    abort.abort();
  }
  if (childExited(child)) await exitedEarly;

  const pid = child.pid ?? 0;
  stopOnExit(pid, 'SIGTERM');
  opts.log?.(`nats-server: ready on nats://${HOST}:${opts.port} (pid ${pid})`);
  return {
    url: `nats://${HOST}:${opts.port}`,
    port: opts.port,
    ...(monitorUrl ? { monitorUrl } : {}),
    process: child,
    async stop() {
      forgetOnExit(pid);
      await stopChild(child, 'SIGTERM', 10_000);
    },
  };
}
