/**
 * The frame path of one node as real processes, started the way the e2e tests start them
 * (test/src/support): a nats-server of its own, the inference service with the real YOLOX model,
 * and the ingest service.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '@sie/bus';
import { findFreePort, findRepoRoot, startNats, waitForHttp, type NatsServer } from '@sie/infra';
import { createLogger } from '@sie/telemetry';

export type ServiceName = 'ingest' | 'inference';

export interface ServiceProcess {
  name: ServiceName;
  opsPort: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a service from its compiled entry point and waits until its /healthz says ready. */
export async function startServiceProcess(
  name: ServiceName,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const opsPort = await findFreePort();
  const entry = join(findRepoRoot(), 'services', name, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the workspace (pnpm build)`);
  const child = spawn(process.execPath, [entry], {
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
      reject(new Error(`${name} exited (${code ?? signal}):\n${lines.join('\n')}`)),
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

export interface BenchStack {
  nodeId: string;
  nats: NatsServer;
  inference: ServiceProcess;
  ingest: ServiceProcess;
  bus: Bus;
  /** What the inference service was configured with (recorded in the results). */
  inferenceWorkers: number;
  intraOpThreads: number;
  stop(): Promise<void>;
}

export async function startBenchStack(modelPath: string, workers: number): Promise<BenchStack> {
  const work = mkdtempSync(join(tmpdir(), 'sie-bench-'));
  const frameDir = mkdtempSync(
    join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'sie-bench-frames-'),
  );
  const nats = await startNats({ port: await findFreePort(), storeDir: join(work, 'nats') });
  const nodeId = `bench-${process.pid}`;
  const grpcPort = await findFreePort();
  const started: ServiceProcess[] = [];
  try {
    const inference = await startServiceProcess('inference', {
      SIE_GRPC__PORT: String(grpcPort),
      SIE_FRAME_STORE_DIR: frameDir,
      SIE_WORKERS__COUNT: String(workers),
      SIE_WORKERS__INTRA_OP_THREADS: '1',
      SIE_MODELS: JSON.stringify([
        { id: 'yolox', path: modelPath, decoder: { type: 'yolox', decodedInGraph: true } },
      ]),
    });
    started.push(inference);
    const ingest = await startServiceProcess('ingest', {
      NATS_URL: nats.url,
      SIE_NODE_ID: nodeId,
      SIE_FRAME_STORE_DIR: frameDir,
      SIE_INFERENCE_URL: `127.0.0.1:${grpcPort}`,
      SIE_MAX_RUNS: '64',
    });
    started.push(ingest);
    const bus = await Bus.connect({
      servers: nats.url,
      name: 'bench',
      logger: createLogger({ service: 'bench', level: 'silent' }),
    });
    return {
      nodeId,
      nats,
      inference,
      ingest,
      bus,
      inferenceWorkers: workers,
      intraOpThreads: 1,
      stop: async () => {
        await bus.close();
        await Promise.all([ingest.stop(), inference.stop()]);
        await nats.stop();
        rmSync(frameDir, { recursive: true, force: true });
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    await nats.stop();
    rmSync(frameDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}
