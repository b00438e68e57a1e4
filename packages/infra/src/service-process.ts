import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from './assets.js';
import { findFreePort, waitForHttp } from './net.js';
import { SERVICE_NODE_FLAGS } from './node-flags.js';

export type ServiceName = 'api' | 'scheduler' | 'ingest' | 'inference' | 'rules' | 'render';

export interface ServiceProcess {
  name: ServiceName;
  opsPort: number;
  child: ChildProcess;
  /** The last lines the process printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real service process from its compiled entry point (tests, benchmarks) and waits until
 * its /healthz says ready. Output is kept in memory and shown when it dies early, so a failure
 * names its cause.
 */
export async function startServiceProcess(
  name: ServiceName,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServiceProcess> {
  const opsPort = await findFreePort();
  const entry = join(findRepoRoot(), 'services', name, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the workspace (pnpm build)`);
  // Extra node flags for every service started this way, e.g. `--cpu-prof --cpu-prof-dir=DIR`
  // to profile a benchmark's stack (node refuses profiler flags in NODE_OPTIONS).
  const nodeArgs = (process.env.SIE_SERVICE_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeArgs, entry], {
    env: { ...process.env, LOG_LEVEL: 'warn', SIE_OPS__PORT: String(opsPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(
        new Error(`${name} exited (${code ?? signal}) before it was healthy:\n${lines.join('\n')}`),
      ),
    ),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForHttp(`http://127.0.0.1:${opsPort}/healthz`, timeoutMs), exited]);
  return {
    name,
    opsPort,
    child,
    output: () => lines.join('\n'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
