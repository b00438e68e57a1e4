import { createConnection } from 'node:net';
import type { HealthProbe } from './services.js';

/** One readiness check: an HTTP 200, or for a plain TCP server an accepted connection. */
export async function probe(health: HealthProbe, timeoutMs = 2000): Promise<boolean> {
  if (health.kind === 'tcp') return tcpAccepts(health.host, health.port, timeoutMs);
  try {
    const res = await fetch(health.url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export function tcpAccepts(host: string, port: number, timeoutMs: number): Promise<boolean> {
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
