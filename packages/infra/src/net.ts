import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError } from '@sie/errors';

/**
 * A TCP port that was free a moment ago on 127.0.0.1. Another process may take it before the
 * caller binds it; servers started on it fail loudly in that case, which tests accept.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface WaitOptions {
  /** Stops waiting early (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Resolves once `host:port` accepts a TCP connection; rejects with TimeoutError after `timeoutMs`. */
export async function waitForTcp(
  host: string,
  port: number,
  timeoutMs: number,
  opts: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) break;
    if (await tryConnect(host, port, Math.min(left, 1000))) return;
    await sleep(Math.min(100, Math.max(0, deadline - Date.now())), undefined, opts);
  }
  throw new TimeoutError(`waiting for tcp ${host}:${port}`, timeoutMs);
}

/** Resolves once `url` answers with a 2xx status; rejects with TimeoutError after `timeoutMs`. */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  opts: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    opts.signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.min(left, 2000)) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Not listening yet (or the attempt timed out): try again until the deadline.
    }
    await sleep(Math.min(100, Math.max(0, deadline - Date.now())), undefined, opts);
  }
  throw new TimeoutError(`waiting for http ${url}`, timeoutMs);
}
