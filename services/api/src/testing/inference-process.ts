import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { findFreePort, findRepoRoot, waitForHttp } from '@sie/infra';

export interface InferenceProcess {
  /** host:port of its gRPC server. */
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The real inference service (its compiled entry point) with no model loaded: the API's tests
 * register models through the API and so prove that inference picks them up without a restart.
 */
export async function startInferenceProcess(
  env: Record<string, string> = {},
): Promise<InferenceProcess> {
  const grpcPort = await findFreePort();
  const opsPort = await findFreePort();
  const entry = join(findRepoRoot(), 'services', 'inference', 'dist', 'main.js');
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'warn',
    SIE_OPS__PORT: String(opsPort),
    SIE_GRPC__PORT: String(grpcPort),
    SIE_WORKERS__COUNT: '1',
    ...env,
  };
  // Its strict config has no nats key: an inherited NATS_URL would make it refuse to start.
  delete childEnv.NATS_URL;
  const child = spawn(process.execPath, [entry], {
    env: childEnv,
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
      reject(new Error(`inference exited (${code ?? signal}):\n${lines.join('\n')}`)),
    ),
  );
  exited.catch(() => undefined);
  await Promise.race([waitForHttp(`http://127.0.0.1:${opsPort}/healthz`, 30_000), exited]);
  return {
    url: `127.0.0.1:${grpcPort}`,
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
