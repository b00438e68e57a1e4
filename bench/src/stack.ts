/**
 * The frame path of one node as real processes, started the way the e2e tests start them
 * (test/src/support): a nats-server of its own, the inference service with the real YOLOX model,
 * and the ingest service.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus } from '@sie/bus';
import {
  findFreePort,
  startNats,
  startServiceProcess,
  type NatsServer,
  type ServiceProcess,
} from '@sie/infra';
import { createLogger } from '@sie/telemetry';

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
